"""The simulator's object store.

Every Kubernetes object is kept as a plain JSON-shaped ``dict``.  One global, monotonically
increasing ``resourceVersion`` orders every change; a bounded history of :class:`WatchEvent` lets
watchers resume from a version (older versions answer ``410 Expired``).  Everything runs on the one
asyncio loop thread of the simulator, so the store uses no locks; subscribers are called
synchronously and must not block.
"""

from __future__ import annotations

import bisect
import builtins
import copy
import gc
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from tamer_tui.sim import selectors

log = logging.getLogger(__name__)

_ENCODER = msgspec.json.Encoder()
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class ResourceType:
    """One served resource: group/version/kind/plural plus what discovery says about it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    list_kind: str = ""
    singular: str = ""
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )

    _api_version: str = field(default="", init=False, repr=False, compare=False)
    _key: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.list_kind:
            object.__setattr__(self, "list_kind", self.kind + "List")
        if not self.singular:
            object.__setattr__(self, "singular", self.kind.lower())
        api_version = f"{self.group}/{self.version}" if self.group else self.version
        object.__setattr__(self, "_api_version", api_version)
        object.__setattr__(self, "_key", f"{api_version}/{self.plural}")

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, else ``group/version``."""
        return self._api_version

    @property
    def key(self) -> str:
        """``apps/v1/deployments`` (``v1/pods`` for the core group)."""
        return self._key

    @property
    def group_resource(self) -> str:
        """``deployments.apps`` (``pods`` for the core group), as used in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


class ApiError(Exception):
    """An error the API answers with a ``metav1.Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The ``Status`` dict, shaped like the real API server's."""
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"

    # -- constructors for the common errors ---------------------------------------------------
    @classmethod
    def not_found(cls, rtype: ResourceType, name: str) -> ApiError:
        """``pods "x" not found``."""
        return cls(
            404,
            "NotFound",
            f'{rtype.group_resource} "{name}" not found',
            _details(rtype, name),
        )

    @classmethod
    def already_exists(cls, rtype: ResourceType, name: str) -> ApiError:
        """``pods "x" already exists``."""
        return cls(
            409,
            "AlreadyExists",
            f'{rtype.group_resource} "{name}" already exists',
            _details(rtype, name),
        )

    @classmethod
    def conflict(cls, rtype: ResourceType, name: str, why: str) -> ApiError:
        """``Operation cannot be fulfilled on pods "x": <why>``."""
        return cls(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {rtype.group_resource} "{name}": {why}',
            _details(rtype, name),
        )

    @classmethod
    def invalid(cls, rtype: ResourceType, name: str, causes: list[dict[str, str]]) -> ApiError:
        """422 Invalid with field causes (``{"reason", "message", "field"}``)."""
        parts = [(f"{c['field']}: {c['message']}" if c.get("field") else c["message"]) for c in causes]
        text = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        details = _details(rtype, name, kind=rtype.kind)
        details["causes"] = causes
        qualified = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
        return cls(422, "Invalid", f'{qualified} "{name}" is invalid: {text}', details)

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        """400 BadRequest."""
        return cls(400, "BadRequest", message)


def _details(rtype: ResourceType, name: str, kind: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if rtype.group:
        out["group"] = rtype.group
    out["kind"] = kind or rtype.plural
    return out


def _ordered(rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with ``kind``, ``apiVersion`` and ``metadata`` first (as the real server writes them)."""
    out: dict[str, Any] = {"kind": rtype.kind, "apiVersion": rtype.api_version}
    if "metadata" in obj:
        out["metadata"] = obj["metadata"]
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    return out


@dataclass(frozen=True)
class WatchEvent:
    """One change: the object after it (for DELETED the last state) and, if any, the state before."""

    type: str
    rtype: ResourceType
    obj: dict[str, Any]
    old: dict[str, Any] | None
    rv: int


def now_rfc3339() -> str:
    """Current UTC time as the API server writes it (``2024-01-02T03:04:05Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def random_suffix(n: int = 5, rng: random.Random | None = None) -> str:
    """A ``generateName`` suffix from the same alphabet the API server uses."""
    r = rng or random
    return "".join(r.choice(_NAME_ALPHABET) for _ in range(n))


@dataclass
class _TypeData:
    """Objects of one resource type: ``namespace -> name -> object`` plus a sorted-name cache."""

    rtype: ResourceType
    by_ns: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    sorted_names: dict[str, list[str]] = field(default_factory=dict)
    sorted_ns: list[str] | None = None
    count: int = 0


class Store:
    """Holds every object as a dict; one global monotonically increasing resourceVersion."""

    def __init__(self, history: int = 50_000) -> None:
        self.resource_version: int = 1
        self.history = history
        self._types: dict[str, ResourceType] = {}
        self._by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        self._data: dict[str, _TypeData] = {}
        self._events: list[WatchEvent] = []
        self._event_rvs: list[int] = []
        # events_since(rv) is complete only for rv >= _floor (bulk loads and trimming raise it)
        self._floor: int = 0
        self._subscribers: list[Callable[[WatchEvent], None]] = []
        self._enc: dict[tuple[str, str, str], tuple[str, bytes]] = {}
        # owner uid -> {(type key, namespace, name)}
        self._owners: dict[str, set[tuple[str, str, str]]] = {}
        self._uids: dict[str, tuple[str, str, str]] = {}

    # ------------------------------------------------------------------ types
    def register_type(self, rtype: ResourceType) -> None:
        """Serve a resource type (re-registering the same key replaces its description)."""
        self._types[rtype.key] = rtype
        self._by_gvr[(rtype.group, rtype.version, rtype.plural)] = rtype
        data = self._data.get(rtype.key)
        if data is None:
            self._data[rtype.key] = _TypeData(rtype)
        else:
            data.rtype = rtype

    def unregister_type(self, rtype: ResourceType) -> None:
        """Stop serving a type and drop its objects (used when a CRD is deleted)."""
        self._types.pop(rtype.key, None)
        self._by_gvr.pop((rtype.group, rtype.version, rtype.plural), None)
        data = self._data.pop(rtype.key, None)
        if data is not None:
            for ns_objs in data.by_ns.values():
                for obj in ns_objs.values():
                    self._unindex(rtype, obj)
        for k in [k for k in self._enc if k[0] == rtype.key]:
            del self._enc[k]

    def types(self) -> list[ResourceType]:
        """Every registered type, in registration order."""
        return list(self._types.values())

    def type_for(self, group: str, version: str, plural: str) -> ResourceType:
        """The type served at ``group/version/plural``; ``ApiError`` 404 when there is none."""
        rtype = self._by_gvr.get((group, version, plural))
        if rtype is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        return rtype

    def find_type(self, group: str, version: str, plural: str) -> ResourceType | None:
        """Like :meth:`type_for` but ``None`` instead of raising."""
        return self._by_gvr.get((group, version, plural))

    def type_by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        """The type for an object's ``apiVersion``/``kind`` (``None`` if not served)."""
        for rtype in self._types.values():
            if rtype.kind == kind and rtype.api_version == api_version:
                return rtype
        return None

    # ------------------------------------------------------------------ helpers
    def _next_rv(self) -> int:
        self.resource_version += 1
        return self.resource_version

    def _emit(
        self, etype: str, rtype: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None, rv: int
    ) -> None:
        ev = WatchEvent(etype, rtype, obj, old, rv)
        self._events.append(ev)
        self._event_rvs.append(rv)
        if len(self._events) > self.history * 2:
            cut = len(self._events) - self.history
            self._floor = self._event_rvs[cut - 1]
            del self._events[:cut]
            del self._event_rvs[:cut]
        for cb in list(self._subscribers):
            try:
                cb(ev)
            except Exception:  # a broken subscriber must never break a write
                log.exception("store subscriber failed")

    def _index(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        ident = (rtype.key, meta.get("namespace", ""), meta["name"])
        uid = meta.get("uid")
        if uid:
            self._uids[uid] = ident
        for ref in meta.get("ownerReferences") or ():
            ouid = ref.get("uid")
            if ouid:
                self._owners.setdefault(ouid, set()).add(ident)

    def _unindex(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        ident = (rtype.key, meta.get("namespace", ""), meta["name"])
        uid = meta.get("uid")
        if uid and self._uids.get(uid) == ident:
            del self._uids[uid]
        for ref in meta.get("ownerReferences") or ():
            ouid = ref.get("uid")
            deps = self._owners.get(ouid) if ouid else None
            if deps is not None:
                deps.discard(ident)
                if not deps:
                    del self._owners[ouid]

    def _put(self, data: _TypeData, ns: str, name: str, obj: dict[str, Any]) -> None:
        objs = data.by_ns.get(ns)
        if objs is None:
            objs = data.by_ns[ns] = {}
            data.sorted_ns = None
        if name not in objs:
            data.sorted_names.pop(ns, None)
            data.count += 1
        objs[name] = obj
        self._enc.pop((data.rtype.key, ns, name), None)

    def _drop(self, data: _TypeData, ns: str, name: str) -> None:
        objs = data.by_ns.get(ns)
        if objs is None or name not in objs:
            return
        del objs[name]
        data.count -= 1
        data.sorted_names.pop(ns, None)
        if not objs:
            del data.by_ns[ns]
            data.sorted_ns = None
        self._enc.pop((data.rtype.key, ns, name), None)

    def _data_for(self, rtype: ResourceType) -> _TypeData:
        data = self._data.get(rtype.key)
        if data is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        return data

    def _ns_of(self, rtype: ResourceType, namespace: str | None) -> str:
        return (namespace or "") if rtype.namespaced else ""

    def _check_namespace_exists(self, rtype: ResourceType, ns: str) -> None:
        if not rtype.namespaced:
            return
        ns_type = self._by_gvr.get(("", "v1", "namespaces"))
        if ns_type is None:
            return
        nsdata = self._data[ns_type.key]
        nsobj = nsdata.by_ns.get("", {}).get(ns)
        if nsobj is None:
            raise ApiError.not_found(ns_type, ns)
        if nsobj["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                "Forbidden",
                f"{rtype.group_resource} is forbidden: unable to create new content in namespace {ns} "
                "because it is being terminated",
                {"name": ns, "kind": "namespaces"},
            )

    # ------------------------------------------------------------------ reads
    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        """The stored object (callers must deepcopy before mutating); ``ApiError`` 404 if missing."""
        data = self._data_for(rtype)
        obj = data.by_ns.get(self._ns_of(rtype, namespace), {}).get(name)
        if obj is None:
            raise ApiError.not_found(rtype, name)
        return obj

    def try_get(self, rtype: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Like :meth:`get` but ``None`` when missing."""
        data = self._data.get(rtype.key)
        if data is None:
            return None
        return data.by_ns.get(self._ns_of(rtype, namespace), {}).get(name)

    def count(self, rtype: ResourceType) -> int:
        """How many objects of this type are stored."""
        data = self._data.get(rtype.key)
        return data.count if data else 0

    def iter_objects(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        *,
        start_after: tuple[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Objects in ``namespace/name`` order without copying the list (read-only use).

        ``start_after=(namespace, name)`` resumes after that position (for paged lists).
        """
        data = self._data_for(rtype)
        if rtype.namespaced and namespace:
            namespaces = [namespace] if namespace in data.by_ns else []
        else:
            if data.sorted_ns is None:
                data.sorted_ns = sorted(data.by_ns)
            namespaces = data.sorted_ns
        if start_after is not None:
            namespaces = namespaces[bisect.bisect_left(namespaces, start_after[0]) :]
        for ns in namespaces:
            objs = data.by_ns.get(ns)
            if not objs:
                continue
            names = data.sorted_names.get(ns)
            if names is None:
                names = data.sorted_names[ns] = sorted(objs)
            if start_after is not None and ns == start_after[0]:
                names = names[bisect.bisect_right(names, start_after[1]) :]
            for n in names:
                obj = objs.get(n)
                if obj is not None:
                    yield obj

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """Objects sorted by namespace/name, filtered by selectors, and the current resourceVersion.

        Selector parse errors raise ``ApiError`` 400.
        """
        lsel = selectors.parse_label_selector(label_selector) if label_selector else None
        fsel = selectors.parse_field_selector(field_selector, rtype) if field_selector else None
        out: builtins.list[dict[str, Any]] = []
        for obj in self.iter_objects(rtype, namespace):
            if lsel is not None and not lsel.matches(obj):
                continue
            if fsel is not None and not fsel.matches(obj):
                continue
            out.append(obj)
        return out, self.resource_version

    def dependents(self, owner_uid: str) -> builtins.list[tuple[ResourceType, dict[str, Any]]]:
        """Objects whose ``ownerReferences`` name ``owner_uid``."""
        out: builtins.list[tuple[ResourceType, dict[str, Any]]] = []
        for key, ns, name in sorted(self._owners.get(owner_uid, ())):
            rtype = self._types.get(key)
            if rtype is None:
                continue
            obj = self.try_get(rtype, ns, name)
            if obj is not None:
                out.append((rtype, obj))
        return out

    def by_uid(self, uid: str) -> tuple[ResourceType, dict[str, Any]] | None:
        """The object with this uid, if it exists."""
        ident = self._uids.get(uid)
        if ident is None:
            return None
        rtype = self._types.get(ident[0])
        if rtype is None:
            return None
        obj = self.try_get(rtype, ident[1], ident[2])
        return (rtype, obj) if obj is not None else None

    def encoded(self, rtype: ResourceType, obj: dict[str, Any]) -> bytes:
        """The object's JSON bytes, cached per object version (invalidated on every write)."""
        meta = obj["metadata"]
        key = (rtype.key, meta.get("namespace", ""), meta["name"])
        rv = meta.get("resourceVersion", "")
        hit = self._enc.get(key)
        if hit is not None and hit[0] == rv:
            return hit[1]
        data = _ENCODER.encode(obj)
        stored = self.try_get(rtype, key[1], key[2])
        if stored is obj:
            self._enc[key] = (rv, data)
        return data

    # ------------------------------------------------------------------ writes
    def create(self, rtype: ResourceType, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Store a new object; fills uid, creationTimestamp, resourceVersion, generation, namespace.

        Raises ``ApiError`` 409 AlreadyExists, 404 if the namespace does not exist, 422 without a name.
        """
        data = self._data_for(rtype)
        obj = _ordered(rtype, copy.deepcopy(obj))
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        name = meta.get("name") or ""
        if not name:
            gen = meta.get("generateName") or ""
            if not gen:
                raise ApiError.invalid(
                    rtype,
                    "",
                    [
                        {
                            "reason": "FieldValueRequired",
                            "message": "Required value: name or generateName is required",
                            "field": "metadata.name",
                        }
                    ],
                )
            for _ in range(20):
                name = gen + random_suffix()
                if name not in data.by_ns.get(self._ns_of(rtype, meta.get("namespace") or "default"), {}):
                    break
            meta["name"] = name
        if rtype.namespaced:
            ns = meta.get("namespace") or "default"
            meta["namespace"] = ns
        else:
            ns = ""
            meta.pop("namespace", None)
        if name in data.by_ns.get(ns, {}):
            raise ApiError.already_exists(rtype, name)
        self._check_namespace_exists(rtype, ns)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta["generation"] = 1
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        meta.pop("selfLink", None)
        self._default(rtype, obj)
        if dry_run:
            meta.pop("resourceVersion", None)
            return obj
        rv = self._next_rv()
        meta["resourceVersion"] = str(rv)
        self._put(data, ns, name, obj)
        self._index(rtype, obj)
        self._emit("ADDED", rtype, obj, None, rv)
        return obj

    def _default(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        """The few defaults the real API server applies that clients rely on."""
        if rtype.group == "" and rtype.plural == "namespaces":
            name = obj["metadata"]["name"]
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj.setdefault("status", {"phase": "Active"})

    def update(
        self,
        rtype: ResourceType,
        obj: dict[str, Any],
        *,
        check_rv: bool = True,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """Replace an object (or only its ``.status`` with ``subresource="status"``).

        409 Conflict on a stale ``metadata.resourceVersion``; bumps ``generation`` when ``spec``
        changes; an update that changes nothing keeps the resourceVersion and emits no event.  When
        the object is being deleted and its finalizers become empty it is removed.
        """
        data = self._data_for(rtype)
        meta_in = obj.get("metadata") or {}
        name = meta_in.get("name") or ""
        ns = self._ns_of(rtype, meta_in.get("namespace") or ("default" if rtype.namespaced else ""))
        old = data.by_ns.get(ns, {}).get(name)
        if old is None:
            raise ApiError.not_found(rtype, name)
        old_meta = old["metadata"]
        given_rv = meta_in.get("resourceVersion")
        if check_rv and given_rv and str(given_rv) != old_meta.get("resourceVersion"):
            raise ApiError.conflict(
                rtype,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in obj:
                new["status"] = copy.deepcopy(obj["status"])
            else:
                new.pop("status", None)
        else:
            new = copy.deepcopy(obj)
            if subresource is None and rtype.group == "" and rtype.plural == "namespaces":
                new.setdefault("status", copy.deepcopy(old.get("status", {"phase": "Active"})))
        new = _ordered(rtype, new)
        meta = new.setdefault("metadata", {})
        # immutable / server-owned metadata
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if k in old_meta:
                meta[k] = old_meta[k]
            else:
                meta.pop(k, None)
        meta["name"] = name
        if rtype.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        meta.pop("selfLink", None)
        gen = int(old_meta.get("generation") or 1)
        if subresource is None and new.get("spec") != old.get("spec"):
            gen += 1
        meta["generation"] = gen
        meta["resourceVersion"] = old_meta.get("resourceVersion", "")
        if old_meta.get("deletionTimestamp"):
            # finalizers may only be removed while deleting
            meta["finalizers"] = [
                f for f in (meta.get("finalizers") or []) if f in (old_meta.get("finalizers") or [])
            ]
            if not meta["finalizers"]:
                meta.pop("finalizers")
        if new == old:
            return old
        if dry_run:
            return new
        if old_meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(rtype, data, ns, name, old, new)
        rv = self._next_rv()
        meta["resourceVersion"] = str(rv)
        self._unindex(rtype, old)
        self._put(data, ns, name, new)
        self._index(rtype, new)
        self._emit("MODIFIED", rtype, new, old, rv)
        return new

    def _remove(
        self,
        rtype: ResourceType,
        data: _TypeData,
        ns: str,
        name: str,
        old: dict[str, Any],
        last: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        final = copy.deepcopy(last if last is not None else old)
        rv = self._next_rv()
        final["metadata"]["resourceVersion"] = str(rv)
        self._unindex(rtype, old)
        self._drop(data, ns, name)
        self._emit("DELETED", rtype, final, old, rv)
        return final

    def delete(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        *,
        propagation: str = "Background",
        dry_run: bool = False,
        preconditions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Delete an object, honouring finalizers and the propagation policy.

        * object with finalizers: ``deletionTimestamp`` is set and the object stays until they are gone
          (the returned object still exists; callers answer 200 with it);
        * ``Foreground``: the ``foregroundDeletion`` finalizer is added when the object has dependents
          (the garbage collector deletes them and removes it);
        * ``Orphan``: dependents lose their ownerReference to this object first;
        * ``Background``: removed at once (the garbage collector deletes dependents later).

        Deleting a namespace deletes everything in it.  Returns the last state of the object.
        """
        data = self._data_for(rtype)
        ns = self._ns_of(rtype, namespace)
        old = data.by_ns.get(ns, {}).get(name)
        if old is None:
            raise ApiError.not_found(rtype, name)
        meta = old["metadata"]
        if preconditions:
            puid = preconditions.get("uid")
            if puid and puid != meta.get("uid"):
                raise ApiError.conflict(
                    rtype,
                    name,
                    f"Precondition failed: UID in precondition: {puid}, UID in object meta: {meta.get('uid')}",
                )
            prv = preconditions.get("resourceVersion")
            if prv and str(prv) != meta.get("resourceVersion"):
                raise ApiError.conflict(
                    rtype,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: {prv}, "
                    f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
                )
        if propagation not in ("Background", "Foreground", "Orphan"):
            raise ApiError.bad_request(
                f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                '"Foreground", "Background", "Orphan"'
            )
        if dry_run:
            out = copy.deepcopy(old)
            return out
        uid = meta.get("uid", "")
        finalizers = list(meta.get("finalizers") or [])
        has_deps = bool(uid and self._owners.get(uid))
        if propagation == "Foreground" and has_deps and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if propagation == "Orphan" and has_deps:
            self._orphan_dependents(uid)
        if finalizers:
            if meta.get("deletionTimestamp") and finalizers == list(meta.get("finalizers") or []):
                return old
            new = copy.deepcopy(old)
            new["metadata"]["finalizers"] = finalizers
            new["metadata"].setdefault("deletionTimestamp", now_rfc3339())
            new["metadata"].setdefault("deletionGracePeriodSeconds", 0)
            rv = self._next_rv()
            new["metadata"]["resourceVersion"] = str(rv)
            self._unindex(rtype, old)
            self._put(data, ns, name, new)
            self._index(rtype, new)
            self._emit("MODIFIED", rtype, new, old, rv)
            return new
        if rtype.group == "" and rtype.plural == "namespaces":
            self._delete_namespace_content(name)
        return self._remove(rtype, data, ns, name, old)

    def _orphan_dependents(self, owner_uid: str) -> None:
        for drtype, dep in self.dependents(owner_uid):
            new = copy.deepcopy(dep)
            refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            self.update(drtype, new, check_rv=False)

    def _delete_namespace_content(self, ns: str) -> None:
        for rtype in list(self._types.values()):
            if not rtype.namespaced:
                continue
            data = self._data.get(rtype.key)
            if data is None or ns not in data.by_ns:
                continue
            for name in list(data.by_ns[ns]):
                obj = data.by_ns.get(ns, {}).get(name)
                if obj is None:
                    continue
                # finalizers inside a deleted namespace are dropped: nothing would ever remove them
                self._remove(rtype, data, ns, name, obj)

    # ------------------------------------------------------------------ watch
    @property
    def oldest_rv(self) -> int:
        """The oldest resourceVersion a watch may still start from."""
        return self._floor

    def events_since(self, rv: int) -> builtins.list[WatchEvent]:
        """Every change after ``rv``; ``ApiError`` 410 Expired when ``rv`` is older than the window."""
        if rv < self._floor:
            raise ApiError(
                410,
                "Expired",
                f"too old resource version: {rv} ({self._floor})",
            )
        i = bisect.bisect_right(self._event_rvs, rv)
        return self._events[i:]

    def compact(self) -> int:
        """Forget the watch history (like an etcd compaction): older versions answer 410 from now on."""
        self._events.clear()
        self._event_rvs.clear()
        self._floor = self.resource_version
        return self._floor

    def subscribe(self, callback: Callable[[WatchEvent], None]) -> Callable[[], None]:
        """Call ``callback`` synchronously for every change; returns the unsubscribe function."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            try:
                self._subscribers.remove(callback)
            except ValueError:
                pass

        return unsubscribe

    # ------------------------------------------------------------------ seeding
    def bulk_load(self, rtype: ResourceType, objs: Iterable[dict[str, Any]]) -> None:
        """Fast path for seeding: stores objects as given (no copy, no events), assigns RVs.

        Missing uid/creationTimestamp/generation/namespace are filled.  Watches cannot resume from
        a version before the load (they get 410 and re-list).
        """
        data = self._data_for(rtype)
        gc_was_enabled = gc.isenabled()
        gc.disable()  # tens of thousands of new dicts would trigger full collections over and over
        try:
            self._bulk_load(rtype, data, objs)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _bulk_load(self, rtype: ResourceType, data: _TypeData, objs: Iterable[dict[str, Any]]) -> None:
        api_version = rtype.api_version
        kind = rtype.kind
        namespaced = rtype.namespaced
        stamp = now_rfc3339()
        rv = self.resource_version
        for obj in objs:
            obj["apiVersion"] = api_version
            obj["kind"] = kind
            meta = obj["metadata"]
            if namespaced:
                ns = meta.get("namespace") or "default"
                meta["namespace"] = ns
            else:
                ns = ""
                meta.pop("namespace", None)
            if "uid" not in meta:
                meta["uid"] = str(uuid.uuid4())
            meta.setdefault("creationTimestamp", stamp)
            meta.setdefault("generation", 1)
            if rtype.group == "" and rtype.plural == "namespaces":
                self._default(rtype, obj)
            rv += 1
            meta["resourceVersion"] = str(rv)
            old = data.by_ns.get(ns, {}).get(meta["name"])
            if old is not None:
                self._unindex(rtype, old)
            self._put(data, ns, meta["name"], obj)
            self._index(rtype, obj)
        self.resource_version = rv
        self._floor = rv
