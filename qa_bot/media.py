"""The recording beside a transcript, and the seconds an answer's timestamp stands for.

A transcript ``talk.srt`` has media when ``talk.mp3`` (or ``.wav``, ``.ogg``, ``.mp4``, ``.webm``)
sits in the same folder, or when its sidecar ``talk.srt.meta.json`` names one with ``"media"``.
Whatever is found is served to anyone who can open the app, so it must be a media file inside the
transcript's own folder: an absolute path, ``..``, a hidden file or a symlink leading out of the
folder finds nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from .parsers.base import META_SUFFIX

log = logging.getLogger(__name__)

MEDIA_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".ogg": "audio/ogg",
               ".mp4": "video/mp4", ".webm": "video/webm"}
# [[HH:]MM:]SS[.mmm], with SRT's comma too: what answers.timestamp writes and what people type.
_STAMP = re.compile(r"(?:(?:(\d+):)?(\d{1,2}):)?(\d{1,2}(?:[.,]\d+)?)")


@dataclass(frozen=True)
class Media:
    """A transcript's recording: the file (resolved, inside the transcript's folder) and its type."""

    path: Path
    mime: str

    @property
    def element(self) -> str:
        """The HTML element that plays it: ``audio`` or ``video``."""
        return "video" if self.mime.startswith("video/") else "audio"


def find_media(transcript: Path) -> Media | None:
    """The media file of the transcript file ``transcript``, or None.

    The sidecar's ``"media"`` wins over a file of the same stem; a sidecar naming a file that is
    not acceptable finds nothing rather than falling back, so that a mistake shows.
    """
    named = _sidecar_media(transcript)
    if named is not None:
        return _inside(transcript.parent, named) if named else None
    for suffix in MEDIA_TYPES:
        for variant in (suffix, suffix.upper()):
            found = _inside(transcript.parent, transcript.stem + variant)
            if found is not None:
                return found
    return None


def transcript_media(path_of: Callable[[str], Path], known: Container[str], name: str) -> Media | None:
    """The media of the transcript called ``name`` (read from the file ``path_of(name)``), or
    None when no transcript of that name is ``known``: a name from a URL reaches no other file."""
    if name not in known:
        return None
    return find_media(path_of(name))


def recordings(path_of: Callable[[str], Path], known: Container[str], names: Iterable[str]
               ) -> dict[str, Media]:
    """The media of those of the transcripts ``names`` that have any, by transcript name."""
    found = {name: transcript_media(path_of, known, name) for name in set(names)}
    return {name: media for name, media in found.items() if media is not None}


def _sidecar_media(transcript: Path) -> str | None:
    """The sidecar's ``"media"``: None when it names none, "" when it cannot be trusted."""
    sidecar = transcript.with_name(transcript.name + META_SUFFIX)
    if not sidecar.is_file():
        return None
    try:
        raw = json.loads(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return ""  # loading the transcript reports a bad sidecar; no media is the safe answer
    value = raw.get("media") if isinstance(raw, dict) else None
    if value is not None and not isinstance(value, str):
        log.warning("%s: field 'media' must be a relative path; ignored", sidecar)
        return ""
    return value


def _inside(folder: Path, relative: str) -> Media | None:
    """``folder/relative`` as Media when it is a media file that really lies inside ``folder``."""
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).anchor \
            or "\\" in relative:
        log.warning("%s: media %r must be a relative path inside the transcript's folder", folder,
                    relative)
        return None
    parts = PurePosixPath(relative).parts
    if any(part.startswith(".") for part in parts):  # "..", and hidden files as the corpus skips them
        log.warning("%s: media %r leaves the folder or is hidden; ignored", folder, relative)
        return None
    try:
        root = folder.resolve(strict=True)
        # resolve() follows every symlink, so a link pointing out of the folder is caught here.
        target = (folder / relative).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    mime = MEDIA_TYPES.get(target.suffix.lower())
    if not target.is_relative_to(root) or mime is None or not target.is_file():
        return None
    return Media(target, mime)


def parse_timestamp(stamp: str | None) -> float | None:
    """Seconds from ``HH:MM:SS.mmm`` (an answer's ``timestamp``), ``MM:SS``, ``SS.s`` or SRT's
    ``HH:MM:SS,mmm``; None for None or anything else."""
    if stamp is None:
        return None
    match = _STAMP.fullmatch(stamp.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    if (minutes is not None and float(seconds.replace(",", ".")) >= 60) \
            or (hours is not None and int(minutes) >= 60):
        return None  # "00:00:75" is a typo, not a time
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds.replace(",", "."))
