"""The dashboard's pages, one module per area, all on ``web.PageRoute``."""
