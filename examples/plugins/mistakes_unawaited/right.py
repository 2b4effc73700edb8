"""The right way: await every store call."""

from cat import tool, user


@tool
async def mistakes_note_right(text: str) -> str:
    """Keep a note for the caller."""
    previous = await user.load("mistakes_note")
    await user.save("mistakes_note", text)
    return f"Noted: {text} (before: {previous})"
