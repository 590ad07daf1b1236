"""The flow that asks about print size, as content/summary/layout.yaml names it.

(The name on the summary is asked by the my_name form: see bot/services/summaries.py.)
"""

from __future__ import annotations

from bot.summary.layout import rules_for
from flows.catalog import Catalog


def print_flow(catalog: Catalog) -> str | None:
    """The flow that asks about large print (content/summary/layout.yaml names its step), if any."""
    ref = rules_for(catalog).large_print
    flow = ref.split(".", 1)[0] if ref else None
    return flow if flow in catalog.flows else None
