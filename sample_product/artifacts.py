"""`artifacts`: uploaded files and links, written where a document attaches one."""

from __future__ import annotations

from .core import Context
from .vocabulary import MIME, WORDS


def artifact(ctx: Context, owner: str, t: float, kind: str | None = None) -> tuple[str, str, str]:
    aid = ctx.oid()
    kind = kind or ctx.pick(("file", "file", "link", "video"))
    ext, mime = ctx.pick(MIME)
    name = f"{ctx.words(1, 3).replace(' ', '_').lower()}.{ext}"
    url = (
        f"https://files.edreflect.example.com/{ctx.district_slug}/{aid}"
        if kind != "link"
        else f"https://docs.example.org/{ctx.pick(WORDS)}/{ctx.randint(100, 999)}"
    )
    ctx.emit(
        "artifacts",
        {
            "_id": aid,
            "ownerId": owner,
            "name": name.rsplit(".", 1)[0].replace("_", " ").title(),
            "type": kind,
            "fileName": name if kind != "link" else "",
            "mimeType": mime if kind != "link" else "",
            "sizeBytes": ctx.randint(2_000, 9_000_000) if kind != "link" else "",
            "url": url,
            **ctx.doc_meta(t, p_deleted=0.02),
        },
    )
    return aid, name, mime
