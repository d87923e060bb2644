"""Built-in model plugins (installed as ``vosframe.plugins``)."""
