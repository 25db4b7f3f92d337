"""`python -m dashboard.ui.launch run APP [streamlit options]`: `streamlit run`, warming from the start.

`serve` execs this instead of `streamlit run` so that the slow pages' imports (scipy, plotly: seconds)
and their kept results (dashboard/ui/warm.py) are computed while the server waits for its first
visitor, not during that visitor's first page. A page that asks for a result being computed waits for
that computation (Streamlit's cache locks per key) instead of repeating it.
"""

from __future__ import annotations

import sys

from dashboard.ui import warm


def main() -> None:
    warm.prepare_process()  # imports before the port opens: a first visitor does not share the GIL with them
    warm.start_when_served()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
