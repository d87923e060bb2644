"""Shipped configs (installed as ``vosframe.configs``); read them with vosframe.load_config."""
