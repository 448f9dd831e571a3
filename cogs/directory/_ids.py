"""The interaction ids of the directory, written once for both platforms."""

# Previous / Next of a result card: the page and the stored search are in the id.
PAGE = r"directory:page:(?P<page>[0-9]{1,5}):(?P<token>[0-9a-f]{16})"
