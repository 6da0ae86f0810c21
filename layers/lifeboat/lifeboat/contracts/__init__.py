"""The workflows' JSON contracts: what each Step Functions task receives and returns.

One module per workflow (``backup``, ``restore``, ``cleanup``); import the module you need, so a
handler's cold start loads only its own workflow's models.
"""
