"""gfp flags as a trace prints them, decoded to the bits the model knows.

The tracepoint prints the mask through ``show_gfp_flags()``: the largest composite names first
(``GFP_HIGHUSER_MOVABLE``), then single ``__GFP_*`` flags, then any bits left as hex, joined by ``|``; ``none``
for 0. A trace's text is kept as printed (it is the only version-independent form: the bit values changed
between kernels, ``__GFP_ATOMIC`` went away in 6.4); the mask decodes the names with their 5.13 meaning into the
bit layout of ``benchframe.mm.page``, which the model's allocator reads. Names the model has no bit for
(``__GFP_COMP``, ``__GFP_ACCOUNT``, ...) are returned as ``unknown`` rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

# The model's bits: the same values as benchframe.mm.page (a test keeps them equal). Not imported from there so
# that trace/ depends on nothing of the simulator while the package is being restructured (#11).
__GFP_MOVABLE = 0x08
__GFP_RECLAIMABLE = 0x10
__GFP_HIGH = 0x20
__GFP_IO = 0x40
__GFP_FS = 0x80
__GFP_ZERO = 0x100
__GFP_ATOMIC = 0x200
__GFP_DIRECT_RECLAIM = 0x400
__GFP_KSWAPD_RECLAIM = 0x800
__GFP_NOWARN = 0x2000
__GFP_NORETRY = 0x10000

__GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM
GFP_ATOMIC = __GFP_HIGH | __GFP_ATOMIC | __GFP_KSWAPD_RECLAIM
GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS
GFP_NOWAIT = __GFP_KSWAPD_RECLAIM
GFP_NOIO = __GFP_RECLAIM
GFP_NOFS = __GFP_RECLAIM | __GFP_IO
GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS  # + __GFP_HARDWALL, which the model lacks
GFP_HIGHUSER_MOVABLE = GFP_USER | __GFP_MOVABLE  # + __GFP_HIGHMEM (and __GFP_SKIP_KASAN in 6.x)
GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | __GFP_NOWARN) & ~__GFP_RECLAIM  # + __GFP_COMP, __GFP_NOMEMALLOC
GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM

#: every name show_gfp_flags() prints that the model has bits for, with its 5.13 meaning in the model's bits.
#: Composites whose extra bits the model lacks (GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT) decode to the
#: part the model knows: a cost model has no use for accounting, highmem or hardwall.
KNOWN = {
    "none": 0,
    "GFP_TRANSHUGE": GFP_TRANSHUGE,
    "GFP_TRANSHUGE_LIGHT": GFP_TRANSHUGE_LIGHT,
    "GFP_HIGHUSER_MOVABLE": GFP_HIGHUSER_MOVABLE,
    "GFP_HIGHUSER": GFP_USER,
    "GFP_USER": GFP_USER,
    "GFP_KERNEL_ACCOUNT": GFP_KERNEL,
    "GFP_KERNEL": GFP_KERNEL,
    "GFP_NOFS": GFP_NOFS,
    "GFP_ATOMIC": GFP_ATOMIC,
    "GFP_NOIO": GFP_NOIO,
    "GFP_NOWAIT": GFP_NOWAIT,
    "__GFP_RECLAIM": __GFP_RECLAIM,
    "__GFP_MOVABLE": __GFP_MOVABLE,
    "__GFP_RECLAIMABLE": __GFP_RECLAIMABLE,
    "__GFP_HIGH": __GFP_HIGH,
    "__GFP_IO": __GFP_IO,
    "__GFP_FS": __GFP_FS,
    "__GFP_ZERO": __GFP_ZERO,
    "__GFP_ATOMIC": __GFP_ATOMIC,
    "__GFP_DIRECT_RECLAIM": __GFP_DIRECT_RECLAIM,
    "__GFP_KSWAPD_RECLAIM": __GFP_KSWAPD_RECLAIM,
    "__GFP_NOWARN": __GFP_NOWARN,
    "__GFP_NORETRY": __GFP_NORETRY,
}


@dataclass(frozen=True, slots=True)
class Gfp:
    """A gfp text decoded: ``mask`` of the names the model knows, ``unknown`` the names it does not."""

    text: str
    mask: int
    unknown: tuple[str, ...]


def decode_gfp(text: str) -> Gfp:
    """``"GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP"`` -> mask of GFP_KERNEL|__GFP_ZERO, unknown ``__GFP_COMP``.

    ``""`` (an event without gfp flags) decodes to 0 with nothing unknown.
    """
    mask = 0
    unknown: list[str] = []
    for name in filter(None, text.split("|")):
        bits = KNOWN.get(name)
        if bits is None:
            unknown.append(name)  # includes the hex remainder show_gfp_flags() prints for unnamed bits
        else:
            mask |= bits
    return Gfp(text, mask, tuple(unknown))
