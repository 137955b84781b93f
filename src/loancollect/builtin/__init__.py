"""In-tree plug-ins, registered by :func:`loancollect.plugins.make_plugin_manager`.

Each module is a plug-in object: it implements hooks with ``@hookimpl`` exactly as
a third-party plug-in would, and can be blocked by name like one.

- :mod:`loancollect.builtin.memory`: complete in-memory storage (scheme ``memory``).
- :mod:`loancollect.builtin.recording`: a channel that records what it sends (``recording``).
- :mod:`loancollect.builtin.templates`: the shipped zh_CN and en_US message templates.
"""
