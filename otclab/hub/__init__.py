"""The front door: JupyterHub with the desk's roles, every app behind it as a hub-managed service.

``paths`` (where the hub keeps its state: never in the repository), ``logins`` (the demo users and
their generated passwords), ``authenticator`` (NativeAuthenticator with the desk's groups and the
clients' invitation sign-up), ``services`` (the apps the hub starts, each behind the hub's OAuth),
``panel_auth`` (the Panel/Bokeh login through the hub), ``identity`` (the ``otclab.access.Identity``
an app receives from the hub) and ``run`` (starting and stopping the hub). The hub's configuration
file, ``deploy/jupyterhub_config.py``, puts these pieces together.
"""
