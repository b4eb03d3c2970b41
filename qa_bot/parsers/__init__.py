"""Transcript files to turns, in layers that import one way only (each from those above it):

- ``base``: the values, ``Turn``, ``Transcript``, ``Metadata``, the turn kinds, line numbers;
- ``lines``, ``sentences``: spans of lines, blocks, ``Name:`` labels and sentences of a text;
- ``structure``: who asks and which question each turn replies to, the same for every format;
- one parser per format: ``prose`` (interview and plain), ``labelled``, ``subtitles`` (SRT and
  WebVTT), ``json_turns`` (JSON and JSON Lines);
- ``detect``: the format of a file and the parser of each format;
- ``corpus``: bytes to a ``Transcript`` (``parse``), files and folders (``load_corpus``).

Nothing here imports the rest of qa_bot but ``errors``; the chunker builds on these turns.
"""
