"""Who may see which model: the sign-in settings, the access policy and the audit trail.

* :mod:`.config` reads ``[auth]``, ``[access]`` and ``[audit]`` of the workspace file
  into frozen settings (every problem named, with did-you-mean);
* :mod:`.policy` answers which models a signed-in user may see and with which role
  (viewer, analyst, admin);
* :mod:`.audit` appends what users do to a JSON-lines file in the workspace's state
  folder (or ``[audit] path``) and reads it back;
* :mod:`.bind` holds the rules ``lastmile serve`` enforces before it starts (which
  provider may listen where) and writes Streamlit's sign-in secrets;
* :mod:`analytics.log.scoped` (in the log layer, beside the engine) gives the engine a
  view restricted to a user's models, so the library itself does not know the others.

Nothing here imports Streamlit; the app's one gate is ``app/auth.py``.
"""
