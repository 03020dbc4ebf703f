"""One pydantic model (and one `extract`) per registry payload format, written from each registry's docs."""
