"""Reports readable without the app: the weekly review as self-contained HTML and as PDF."""
