"""CAT004: a store call that is never awaited.

`store.save(...)` returns a coroutine; without `await` nothing runs and the
value is silently not saved (Python only warns, later, that a coroutine was
never awaited).  `cat-lint --fix` adds the missing `await`.
"""

from cat import tool, user


@tool
async def mistakes_note(text: str) -> str:
    """Keep a note for the caller."""
    previous = user.load("mistakes_note")  # CAT004: assigned, never awaited
    user.save("mistakes_note", text)  # CAT004: never awaited, the note is lost
    return f"Noted: {text} (before: {previous})"
