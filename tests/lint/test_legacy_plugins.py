"""Plugins written for Cat 1.x must produce no findings.

They import from ``cat.mad_hatter.decorators``, take a ``cat`` argument, keep
state on ``cat.working_memory`` and are full of locals called ``user``: a
linter that matched by spelling would drown them in false positives.
"""

from __future__ import annotations

from cat_lint.engine import check_project, check_source
from cat_lint.keys import KeyIndex
from cat_lint.settings import Settings

WEATHER = '''\
"""Tells the weather; remembers each user's city in working memory."""
from datetime import datetime

from cat.mad_hatter.decorators import hook, tool
from cat.log import log


@tool(return_direct=True)
def weather(city, cat):
    """Weather in a city. Input is the city name."""
    user = cat.user_id
    cat.working_memory["city"] = city
    log.info(f"{user} asked for the weather in {city} at {datetime.now()}")
    return f"It is sunny in {city}"


@hook
def agent_prompt_prefix(prefix, cat):
    user = cat.user_id
    city = cat.working_memory.get("city")
    if city:
        prefix += f"\\nThe user {user} lives in {city}."
    return prefix


@hook(priority=2)
def before_cat_sends_message(message, cat):
    users = {cat.user_id}
    message.content = message.content.strip()
    return message
'''

GREETER = '''\
from cat.mad_hatter.decorators import hook, plugin
from pydantic import BaseModel


class Settings(BaseModel):
    greeting: str = "Hello"
    user: str = "friend"


@plugin
def settings_model():
    return Settings


@hook
def after_cat_bootstrap(cat):
    user = "admin"
    settings = cat.mad_hatter.get_plugin().load_settings()
    cat.greeting = settings.get("greeting", "Hello") + ", " + user
    return None


@hook
def before_cat_reads_message(user_message_json, cat):
    user = user_message_json.get("user_id", "user")
    user_message_json["text"] = user_message_json["text"].replace("{user}", user)
    return user_message_json
'''

MEMORY = '''\
import json
from cat.mad_hatter.decorators import hook, tool
from cat.looking_glass.stray_cat import StrayCat

store = {}


def save(key, value):
    store[key] = value
    return value


@tool
def remember(fact: str, cat: StrayCat):
    """Remember a fact for later."""
    facts = store.setdefault(cat.user_id, set())
    facts.add(fact)
    save("last", (cat.user_id, fact))
    return json.dumps(sorted(facts))


@hook
def after_mad_hatter_refresh(cat):
    user = None
    for user in cat.mad_hatter.plugins:
        pass
    return user


class Recorder:
    user = "system"

    def record(self, cat, user=None):
        user = user or cat.user_id
        return store.get(user)
'''

ENDPOINTS = '''\
from cat.mad_hatter.decorators import endpoint, hook


@endpoint.get("/status")
def status(user=None):
    return {"user": user, "ok": True}


@hook
def before_cat_bootstrap(cat):
    def user():
        return "nobody"

    return user()
'''

PLUGINS = {
    "plugins/weather/weather.py": WEATHER,
    "plugins/greeter/greeter.py": GREETER,
    "plugins/memory/memory.py": MEMORY,
    "plugins/endpoints/endpoints.py": ENDPOINTS,
}


def test_legacy_plugins_yield_no_findings():
    settings = Settings()
    results = [check_source(text, path, settings) for path, text in PLUGINS.items()]
    index = KeyIndex()
    for result in results:
        index.set_file(result.path, result.key_uses)
    final = check_project(results, settings, index)
    assert final == {path: [] for path in PLUGINS}
    assert all(result.key_uses == [] for result in results)


def test_the_same_code_on_2x_imports_is_checked():
    # Sanity check that the plugins above are silent for the right reason: with the
    # ambient `user` imported, the bootstrap hook's use of it is reported.
    source = GREETER.replace("from cat.mad_hatter.decorators import hook, plugin", "from cat import hook, user\nfrom cat.mad_hatter.decorators import plugin")
    source = source.replace('    user = "admin"\n', "")
    # (reading an attribute is what raises outside a request: `+ user` alone does not)
    source = source.replace('", " + user\n', '", " + user.name\n')
    codes = [f.code for f in check_project([check_source(source, "g.py", Settings())], Settings(), KeyIndex())["g.py"]]
    assert codes == ["CAT001"]
