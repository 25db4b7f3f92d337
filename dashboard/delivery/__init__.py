"""Sending the Weekly review's alerts: webhooks (urllib) and email (smtplib), with bounded retries.

The command is dashboard.delivery.cli (`python -m dashboard alerts`); what is sent is built by
dashboard.services.alert_delivery; what was sent is logged by dashboard.store.deliveries.
"""
