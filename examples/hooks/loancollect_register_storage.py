from loancollect import hookimpl
from loancollect.builtin.memory import MemoryStore
from loancollect.registry import StorageBackendSpec


@hookimpl
def loancollect_register_storage():
    return [
        StorageBackendSpec(
            name="scratch",
            schemes=("scratch",),
            factory=lambda url: MemoryStore(),
        )
    ]
