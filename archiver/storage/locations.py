"""The configured storage locations in order, primary first, each checked once for availability."""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.storage.base import Storage, StorageError


@dataclass(slots=True)
class Locations:
    """The configured locations in order (primary first), with the unavailable ones remembered."""

    all: list[Storage]
    unavailable: dict[str, str] = field(default_factory=dict)
    """Location name → why it cannot be used (the StorageError message)."""
    _checked: set[str] = field(default_factory=set)

    def available(self, location: Storage) -> bool:
        """Whether ``location`` can be used; checked once (a local folder must exist, a bucket be locked)."""
        if location.name in self.unavailable:
            return False
        if location.name not in self._checked:
            try:
                location.check()
            except StorageError as exc:
                self.unavailable[location.name] = str(exc)
                return False
            self._checked.add(location.name)
        return True

    def usable(self) -> list[Storage]:
        """The available locations, primary first."""
        return [loc for loc in self.all if self.available(loc)]

    def first(self) -> Storage:
        """The first available location; :class:`StorageError` when none is."""
        for location in self.all:
            if self.available(location):
                return location
        raise StorageError(
            "ни одно хранилище архива недоступно:\n"
            + "\n".join(f"  - {reason}" for reason in self.unavailable.values())
        )

    def fallback_notes(self) -> list[str]:
        """One line per unavailable location."""
        return [f"хранилище «{name}» недоступно: {why}" for name, why in self.unavailable.items()]
