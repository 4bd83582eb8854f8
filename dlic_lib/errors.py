"""Exceptions that the ``dlic`` command turns into one readable line and a non-zero exit."""


class DlicError(Exception):
    """A problem the user can fix (bad input, missing file, bad parameter).

    The message must be one self-contained sentence: the CLI prints it as ``dlic: error: <message>``.
    """


class ChecksumError(DlicError):
    """A file's sha256 differs from the one the data manifest names."""


class DatasetUnavailableError(DlicError):
    """No source (cache, mirror, download, embedded default) could provide a dataset."""


class ImageReadError(DlicError):
    """A file is not a readable image, or an image the library cannot use."""
