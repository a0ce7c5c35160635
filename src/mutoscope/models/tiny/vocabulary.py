"""What ``mutoscope-tiny`` can draw, and reading a free-form prompt into its world.

The model was trained on captions from a few templates (``world.caption``). People write
"a sphere ascends against a navy backdrop" or "Blue background. A yellow triangle bounces.";
the text encoder alone maps many of those words to the wrong attribute. :func:`read_prompt`
parses a prompt into the world's structured :class:`~mutoscope.models.tiny.world.Scene`
(resolving synonyms, word order, plurals and filler), fills in what the prompt leaves out
(a backdrop that contrasts with the objects, a colour, a motion), and :func:`canonical_caption`
re-renders that scene in the phrasing the model was trained on. It also says what it
understood and which words are outside the vocabulary, so callers can be honest about
prompts the model cannot draw.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mutoscope.models.tiny import world

# -- the vocabulary ---------------------------------------------------------------------------

COLOR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet", "ruby", "cherry", "vermilion", "maroon", "cardinal"),
    "orange": ("orange", "tangerine", "amber", "apricot", "pumpkin", "ginger", "copper"),
    "yellow": ("yellow", "golden", "gold", "lemon", "canary", "mustard", "sunflower", "butter"),
    "green": ("green", "emerald", "lime", "jade", "olive", "grass", "leafy", "mint", "forest"),
    "blue": ("blue", "azure", "cobalt", "navy", "sapphire", "cerulean", "ultramarine", "teal"),
    "purple": ("purple", "violet", "lavender", "plum", "amethyst", "grape", "lilac", "mauve"),
    "white": ("white", "snowy", "ivory", "snow", "cream", "creamy", "chalk", "pearl", "milky"),
    "black": ("black", "jet", "ebony", "onyx", "coal", "inky", "ink", "pitch", "sable"),
}
SHAPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "disk", "ball", "dot", "sphere", "orb", "bubble"),
    "square": ("square", "box", "block", "cube", "tile", "brick"),
    "triangle": ("triangle", "wedge", "pyramid"),
    "diamond": ("diamond", "rhombus", "lozenge", "rhomb", "kite"),
    "cross": ("cross", "plus", "plus sign", "plus symbol", "plus shape"),
}
_DIRECTION_WORDS: dict[str, tuple[int, int]] = {
    # word -> (horizontal, vertical) component, screen coordinates (up is -1)
    **dict.fromkeys(("left", "leftward", "leftwards", "west", "westward", "westwards"), (-1, 0)),
    **dict.fromkeys(("right", "rightward", "rightwards", "east", "eastward", "eastwards"), (1, 0)),
    **dict.fromkeys(("up", "upward", "upwards", "top", "upper", "north", "northward"), (0, -1)),
    **dict.fromkeys(("skyward", "skywards", "above", "ceiling"), (0, -1)),
    **dict.fromkeys(("down", "downward", "downwards", "bottom", "lower", "south"), (0, 1)),
    **dict.fromkeys(("southward", "floor", "ground", "below"), (0, 1)),
    "northeast": (1, -1),
    "northwest": (-1, -1),
    "southeast": (1, 1),
    "southwest": (-1, 1),
}
_DIRECTION_VERBS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("rise", "ascend", "climb", "lift", "soar", "levitate"), (0, -1)),
    **dict.fromkeys(("sink", "descend", "fall", "drop", "plunge", "dip"), (0, 1)),
}
_MOTION_VERBS: dict[str, str] = {
    **dict.fromkeys(("bounce", "hop", "jump", "leap", "spring", "bob", "bound"), "bounce"),
    **dict.fromkeys(("grow", "expand", "swell", "enlarge", "inflate", "balloon"), "grow"),
}
_MOTION_PHRASES: dict[str, str] = {
    "up and down": "bounce",
    "bigger": "grow",
    "larger": "grow",
    "scale up": "grow",
    "scales up": "grow",
    "scaling up": "grow",
    "blow up": "grow",
    "blows up": "grow",
    "blowing up": "grow",
    "swell up": "grow",
    "swells up": "grow",
    "swelling up": "grow",
}
_MOVE_VERBS = (
    "move", "drift", "slide", "head", "glide", "travel", "travell", "go", "roll", "scoot",
    "zoom", "float", "fly", "flie", "run", "race", "dart", "wander", "shift", "sail", "creep",
    "cross", "pass", "swim", "stream", "coast", "cruise", "push", "flow", "walk", "sweep",
)  # fmt: skip
BACKDROP_NOUNS = ("background", "backdrop", "backgrounds", "backdrops", "wall", "canvas")
_GRADIENT_WORDS = ("gradient", "shaded", "fading", "faded", "graded", "graduated", "ombre")
_BG_PREPOSITIONS = ("on", "against", "over", "across", "front", "onto", "upon")
_GENERIC_NOUNS = ("shape", "shapes", "object", "objects", "thing", "things", "blob", "figure")
_NUMBERS = {"one": 1, "two": 2, "both": 2, "pair": 2, "couple": 2, "2": 2, "1": 1}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FILLER = _words(
    """a an the this that these those it its is are be being was and or but while as with
    of in on at to toward towards into onto from by for across over against front upon
    along through around about near next beside behind alongside together then
    make create render show generate draw animate imagine picture want like see could would
    please can you me i id we let lets us give some just only also there here where
    which who whose when what video clip animation scene film movie short simple little
    small tiny big large cute lone single plain solid pure pale light dark bright deep vivid
    royal sky coloured colored color colour hued tinted shaded diagonally slowly gently
    smoothly steadily quickly fast slow happily repeatedly continuously constantly keep
    keeps keeping getting gets get becoming becomes become more side edge corner
    screen frame way direction all both each other one another same
    so very really nice pretty lovely d ll s re ve m t place bit whole area middle center
    centre space around past beyond under behind by"""
)


def _forms(verb: str) -> set[str]:
    """Common inflections of a regular English verb: rise -> rises, rising, risen, rose..."""
    forms = {verb, verb + "s", verb + "es", verb + "ed", verb + "ing"}
    if verb.endswith("e"):
        forms |= {verb[:-1] + "ing", verb + "d"}
    if re.fullmatch(r"[^aeiou]*[aeiou][bdgmnpt]", verb):  # hop -> hopping, hopped
        forms |= {verb + verb[-1] + "ing", verb + verb[-1] + "ed"}
    if verb.endswith("y"):
        forms |= {verb[:-1] + "ies", verb[:-1] + "ied"}
    return forms


_IRREGULAR = {
    "rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall", "sank": "sink",
    "sunk": "sink", "grew": "grow", "grown": "grow", "went": "go", "goes": "go", "gone": "go",
    "flew": "fly", "flies": "fly", "ran": "run", "leapt": "leap", "sprang": "spring",
    "sprung": "spring", "swam": "swim", "swollen": "swell",
}  # fmt: skip


def _build_lexicon() -> dict[str, tuple[str, object]]:
    lex: dict[str, tuple[str, object]] = {}
    for canon, words in COLOR_SYNONYMS.items():
        for w in words:
            lex[w] = ("color", canon)
    for canon, words in SHAPE_SYNONYMS.items():
        for w in words:
            lex[w] = ("shape", canon)
            if " " not in w:
                lex[w + ("es" if w.endswith(("x", "s")) else "s")] = ("shapes", canon)
    lex["crosses"] = ("shapes", "cross")
    for w, vec in _DIRECTION_WORDS.items():
        lex[w] = ("dir", vec)
    for verb, vec in _DIRECTION_VERBS.items():
        for f in _forms(verb):
            lex[f] = ("dir", vec)
    for verb, motion in _MOTION_VERBS.items():
        for f in _forms(verb):
            lex[f] = ("motion", motion)
    for verb in _MOVE_VERBS:
        for f in _forms(verb):
            lex.setdefault(f, ("move", None))
    for form, verb in _IRREGULAR.items():
        lex[form] = lex[verb]
    for phrase, motion in _MOTION_PHRASES.items():
        lex[phrase] = ("motion", motion)
    for w in BACKDROP_NOUNS:
        lex[w] = ("backdrop", None)
    for w in _GRADIENT_WORDS:
        lex[w] = ("gradient", None)
    for w in _GENERIC_NOUNS:
        lex[w] = ("generic", None)
    return lex


_LEXICON = _build_lexicon()
_LONGEST = max(len(k.split()) for k in _LEXICON)


# -- reading a prompt ------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptReading:
    """What :func:`read_prompt` made of a prompt."""

    prompt: str
    scene: world.Scene | None
    """The scene to draw, or ``None`` when the prompt names nothing the model can draw."""
    understood: tuple[str, ...] = ()
    """Words and phrases it recognised, as ``"sphere → circle"``."""
    unknown: tuple[str, ...] = ()
    """Content words outside the vocabulary (the model cannot draw these)."""
    assumed: tuple[str, ...] = ()
    """What it filled in or changed, e.g. ``"backdrop: white (none named)"``."""
    caption: str | None = None
    """What conditions the model: the prompt itself when it is complete and worded as the
    training captions are, else the scene's canonical caption."""
    notes: tuple[str, ...] = field(default=())

    @property
    def drawable(self) -> bool:
        return self.scene is not None


@dataclass
class _Token:
    text: str
    kind: str  # color | shape | shapes | dir | motion | move | backdrop | gradient | generic
    #            | number | filler | unknown
    value: object = None


@dataclass
class _Object:
    color: str | None
    shape: str
    words: list[str]
    horizontal: int = 0
    vertical: int = 0
    motion: str | None = None


def _tokenize(prompt: str) -> list[_Token]:
    text = prompt.lower().replace("'s", "").replace("’s", "")
    # Whole Unicode words: "círculo" is one word the model does not know, not "c" + "rculo".
    words = re.findall(r"[^\W_]+", text.replace("-", " ").replace("_", " "))
    out: list[_Token] = []
    i = 0
    while i < len(words):
        for n in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + n])
            if phrase in _LEXICON:
                kind, value = _LEXICON[phrase]
                out.append(_Token(phrase, kind, value))
                i += n
                break
        else:
            w = words[i]
            if w in _NUMBERS:
                out.append(_Token(w, "number", _NUMBERS[w]))
            elif w in _FILLER:
                out.append(_Token(w, "filler"))
            else:
                out.append(_Token(w, "unknown"))
            i += 1
    return _merge_colors(out)


def _merge_colors(tokens: list[_Token]) -> list[_Token]:
    """ "navy blue", "cherry red", "jet black": adjacent colour words name one colour (the last)."""
    out: list[_Token] = []
    for t in tokens:
        if t.kind == "color" and out and out[-1].kind == "color":
            out[-1] = _Token(f"{out[-1].text} {t.text}", "color", t.value)
        else:
            out.append(t)
    return out


_TO_WORDS = ("to", "toward", "towards", "into")
_ADJECTIVES = _words(
    "a an the little small tiny big large cute lone single plain solid pure pale light dark "
    "bright deep vivid royal sky coloured colored hued tinted one"
)


_IDIOM_AFTER = frozenset(
    {"of", "ring", "rings", "necklace", "earring", "earrings", "mine", "jewel", "jewellery"}
    | {"jewelry", "drama", "deal", "meal", "root", "roots", "table"}
)
"""Words after a shape word that make it an idiom ("a circle of friends", "a diamond ring")."""
_IDIOM_BEFORE = frozenset(
    {"love", "town", "village", "city", "market", "public", "times", "bermuda", "vicious"}
    | {"inner", "family", "social", "polar", "arctic", "antarctic", "trade", "tiananmen"}
)
"""Words before a shape word that make it an idiom ("a love triangle", "a town square")."""


def _without_idioms(tokens: list[_Token]) -> list[_Token]:
    """Shape words used idiomatically become unknown words: "a circle of friends dancing
    around a campfire" names no shape the model can draw (it would otherwise draw a circle
    and call it done)."""
    out = list(tokens)
    for i, t in enumerate(tokens):
        if t.kind not in ("shape", "shapes"):
            continue
        after = tokens[i + 1].text if i + 1 < len(tokens) else ""
        before = tokens[i - 1].text if i > 0 else ""
        # "of" makes an idiom when a word the model does not know follows ("a circle of
        # friends"), not before its own words ("squares of red", "a ring of circles").
        beyond = tokens[i + 2] if i + 2 < len(tokens) else None
        of_idiom = after == "of" and beyond is not None and beyond.kind == "unknown"
        if of_idiom or (after in _IDIOM_AFTER - {"of"}) or before in _IDIOM_BEFORE:
            out[i] = _Token(t.text, "unknown")
    return out


def _qualifies_shape(tokens: list[_Token], i: int) -> bool:
    """Whether the colour at ``i`` is an object's: a shape follows, past adjectives only."""
    for t in tokens[i + 1 :]:
        if t.kind in ("shape", "shapes", "generic"):
            return True
        if t.text not in _ADJECTIVES:
            return False
    return False


def _find_backdrop(tokens: list[_Token]) -> tuple[int | None, bool]:
    """Index of the backdrop's colour token (or None) and whether the backdrop is a gradient."""
    gradient = any(t.kind == "gradient" for t in tokens)
    for i, t in enumerate(tokens):
        if t.kind != "color":
            continue
        # "a navy backdrop", "a green gradient backdrop", "yellow coloured background"
        for nxt in tokens[i + 1 : i + 4]:
            if nxt.kind == "backdrop":
                return i, gradient
            if nxt.kind not in ("gradient", "filler") or nxt.text in ("and", "with"):
                break
    for i, t in enumerate(tokens):
        # "the background is green", "background: black", "background black;"
        if t.kind == "backdrop":
            for j in range(i + 1, min(i + 4, len(tokens))):
                if tokens[j].kind == "color":
                    if not _qualifies_shape(tokens, j):
                        return j, gradient
                    break
                if tokens[j].kind not in ("filler", "gradient"):
                    break
    for i, t in enumerate(tokens):
        # "On white, a black diamond rises", "sliding eastward on white"
        if t.kind == "filler" and t.text in _BG_PREPOSITIONS:
            for j in range(i + 1, min(i + 4, len(tokens))):
                if tokens[j].kind == "color":
                    if not _qualifies_shape(tokens, j):
                        return j, gradient
                    break
                if tokens[j].text not in _ADJECTIVES and tokens[j].kind != "gradient":
                    break
    return None, gradient


def read_prompt(prompt: str) -> PromptReading:
    """Parse ``prompt`` into the shapes world; see :class:`PromptReading`."""
    tokens = _without_idioms(_tokenize(prompt))
    understood: list[str] = []
    assumed: list[str] = []
    notes: list[str] = []

    # 1. The backdrop: a colour tied to "background"/"backdrop", or after "on"/"against"
    bg_index, gradient = _find_backdrop(tokens)
    background = str(tokens[bg_index].value) if bg_index is not None else None
    if bg_index is not None:
        understood.append(f"{tokens[bg_index].text} → {background} backdrop")

    # 2. Objects: each shape word takes the colours just before it ("green and yellow squares")
    #    or, failing those, just after it ("a sphere in emerald", "two triangles, one orange
    #    and one purple"); motion words go to the object (or group) they follow
    objects: list[_Object] = []
    group: list[_Object] = []
    pending_colors: list[_Token] = []
    pending_dirs: list[_Token] = []
    count = 0
    skip_from = False
    used_after: set[int] = set()
    for i, t in enumerate(tokens):
        if i == bg_index or i in used_after:
            continue
        if t.text == "from":
            skip_from = True  # "from the top left", "from left to right": a start, not a motion
            continue
        if skip_from:
            start_word = t.kind == "dir" and t.text in _DIRECTION_WORDS
            if start_word or (t.kind == "filler" and t.text not in _TO_WORDS):
                continue
            skip_from = False
        if t.kind == "number":
            count = int(t.value)  # type: ignore[call-overload]
        elif t.kind == "color":
            pending_colors.append(t)
        elif t.kind == "generic" and pending_colors and not t.text.endswith("s"):
            # "a red thing moving left": a coloured something; draw it as a circle
            assumed.append(f'shape of the {pending_colors[-1].value} "{t.text}": circle')
            group = [_Object(str(pending_colors[-1].value), "circle", [])]
            understood.append(f"{pending_colors[-1].text} → {pending_colors[-1].value}")
            objects.extend(group)
            for d in pending_dirs:
                _apply_motion(group, d)
            pending_dirs, pending_colors, count = [], [], 0
        elif t.kind in ("shape", "shapes"):
            colors = [str(c.value) for c in pending_colors]
            words = [c.text for c in pending_colors]
            if not colors:
                for j in range(i + 1, min(i + 8, len(tokens))):
                    u = tokens[j]
                    if j == bg_index:
                        break
                    if u.kind == "color":
                        colors.append(str(u.value))
                        words.append(u.text)
                        used_after.add(j)
                    elif u.kind in ("number", "filler") and u.text not in _BG_PREPOSITIONS:
                        continue
                    else:
                        break
            n = max(len(colors), 1)
            if t.kind == "shapes":
                n = max(n, count, 2)
            group = []
            for k in range(n):
                obj = _Object(colors[k] if k < len(colors) else None, str(t.value), [])
                if k < len(words):
                    understood.append(f"{words[k]} → {obj.color}")
                group.append(obj)
            understood.append(f"{t.text} → {t.value}")
            objects.extend(group)
            for d in pending_dirs:  # "Moving left: a white triangle"
                _apply_motion(group, d)
            pending_dirs = []
            pending_colors = []
            count = 0
        elif t.kind in ("dir", "motion"):
            understood.append(f"{t.text} → {_describe_motion_word(t)}")
            if group:
                _apply_motion(group, t)
            else:
                pending_dirs.append(t)
        elif t.kind in ("move", "backdrop", "gradient", "generic"):
            understood.append(t.text)
    unknown = [t.text for t in tokens if t.kind == "unknown"]
    leftover = [c.text for c in pending_colors]
    if not objects:
        if leftover:
            notes.append(f"{', '.join(leftover)} names a colour but no shape")
        return PromptReading(
            prompt, None, tuple(understood), tuple(unknown), (), None, tuple(notes)
        )

    # 3. Fit the world: at most two objects, distinct colours, a backdrop unlike them
    if len(objects) > 2:
        dropped = ", ".join(f"{o.color or ''} {o.shape}".strip() for o in objects[2:])
        notes.append(f"the model draws at most two objects; left out: {dropped}")
        objects = objects[:2]
    for obj in objects:
        obj.motion = obj.motion or _direction(obj.horizontal, obj.vertical)
        if obj.motion is None:
            obj.motion = "bounce"
            assumed.append(f"motion of the {obj.shape}: bouncing (none named)")
    taken = [o.color for o in objects if o.color]
    if len(taken) == 2 and taken[0] == taken[1]:
        objects[1].color = None
        notes.append(f"two objects cannot share the colour {taken[0]}; the second gets another")
        taken = taken[:1]
    if background is not None and background in taken:
        notes.append(f"a {background} object would not show on a {background} backdrop")
        background = None
    for obj in objects:
        if obj.color is None:
            obj.color = _pick_color(exclude=[*taken, *([background] if background else [])])
            taken.append(obj.color)
            assumed.append(f"colour of the {obj.shape}: {obj.color} (none named)")
    if background is None:
        background = default_backdrop([o.color for o in objects if o.color])
        assumed.append(f"backdrop: {background} (contrasts with the objects)")
    scene = world.Scene(
        tuple(world.ObjectSpec(str(o.color), o.shape, str(o.motion)) for o in objects),
        background,
        gradient=gradient,
    )
    complete = not (unknown or assumed or notes)
    caption = prompt.strip() if complete and in_training_language(prompt) else None
    return PromptReading(
        prompt,
        scene,
        tuple(understood),
        tuple(unknown),
        tuple(assumed),
        caption or canonical_caption(scene),
        tuple(notes),
    )


def _alternatives(options: Iterable[str]) -> str:
    words = sorted(set(options), key=len, reverse=True)  # longest first: "plus sign" > "plus"
    return "(?:" + "|".join(re.escape(w) for w in words) + ")"


def _training_grammar() -> re.Pattern[str]:
    """The caption templates of ``world.caption`` as one regular expression."""
    color = _alternatives(w for words in world.COLOR_WORDS.values() for w in words)
    shape = _alternatives(w for words in world.SHAPE_WORDS.values() for w in words)
    direction = _alternatives(p for phrases in world._DIR_PHRASES.values() for p in phrases)
    moves = _alternatives(p for phrases in world._MOTION_PHRASES.values() for p in phrases)
    motion = f"(?:{_alternatives(world._VERBS)} {direction}|{moves})"
    obj = f"(?:an? {color} {shape} {motion}|a {shape} in {color} {motion})"
    subject = f"{obj}(?: and {obj})?"
    templates = (*world._BG_TEMPLATES, *world._GRADIENT_TEMPLATES)
    backdrop = "(?:" + "|".join(re.escape(t).replace(r"\{c\}", color) for t in templates) + ")"
    return re.compile(f"(?:{subject} {backdrop}|{backdrop}, {subject})", re.IGNORECASE)


_TRAINING_GRAMMAR = _training_grammar()


def in_training_language(prompt: str) -> bool:
    """Whether ``prompt`` is worded exactly as the training captions' templates word things.

    Such a prompt conditions the model as written: it is already in the language the model
    learned (re-phrasing it canonically changed held-out results by a few clips either way)."""
    return _TRAINING_GRAMMAR.fullmatch(prompt.strip()) is not None


def _describe_motion_word(t: _Token) -> str:
    if t.kind == "motion":
        return str(t.value)
    h, v = _vector(t)
    return _direction(h, v) or "?"


def _vector(t: _Token) -> tuple[int, int]:
    value = t.value
    assert isinstance(value, tuple)
    return int(value[0]), int(value[1])


def _apply_motion(group: list[_Object], t: _Token) -> None:
    for obj in group:
        if t.kind == "motion":
            obj.motion = obj.motion or str(t.value)
        else:
            h, v = _vector(t)
            obj.horizontal += h
            obj.vertical += v


def _direction(horizontal: int, vertical: int) -> str | None:
    h = (horizontal > 0) - (horizontal < 0)
    v = (vertical > 0) - (vertical < 0)
    for name, vec in world.DIRECTIONS.items():
        if vec == (h, v):
            return name
    return None


def _distance(a: str, b: str) -> float:
    return sum((x - y) ** 2 for x, y in zip(world.COLORS[a], world.COLORS[b], strict=True)) ** 0.5


def default_backdrop(object_colors: list[str]) -> str:
    """A backdrop that contrasts with every object: white or black, else the farthest colour.

    Without one the model paints the whole frame in the object's colour (it never saw a clip
    without a named backdrop).
    """
    neutral = [c for c in ("white", "black") if c not in object_colors]
    if neutral:
        # Between white and black, lightness decides what stands out (yellow is nearly
        # invisible on white): the one whose luma differs most from the nearest object's.
        return max(
            neutral,
            key=lambda c: min((abs(_luma(c) - _luma(o)) for o in object_colors), default=0.0),
        )
    pool = [c for c in world.COLORS if c not in object_colors]
    return max(pool, key=lambda c: min((_distance(c, o) for o in object_colors), default=0.0))


def _luma(color: str) -> float:
    r, g, b = world.COLORS[color]
    return 0.299 * r + 0.587 * g + 0.114 * b


def _pick_color(exclude: list[str]) -> str:
    """A colour for an object the prompt gave none: the first vivid one not in ``exclude``."""
    for c in ("red", "blue", "yellow", "green", "orange", "purple", "white", "black"):
        if c not in exclude:
            return c
    return "red"


# -- the caption the model was trained on ----------------------------------------------------

_CANON_MOTION = {
    **{d: f"moving {world._DIR_PHRASES[d][0]}" for d in world.DIRECTIONS},
    "bounce": "bouncing",
    "grow": "growing",
}


def canonical_caption(scene: world.Scene) -> str:
    """``scene`` in the training captions' most common phrasing."""
    parts = []
    for o in scene.objects:
        article = "an" if o.color[0] in "aeiou" else "a"
        parts.append(f"{article} {o.color} {o.shape} {_CANON_MOTION[o.motion]}")
    backdrop = "gradient background" if scene.gradient else "background"
    return f"{' and '.join(parts)} on a {scene.background} {backdrop}"


def describe(scene: world.Scene) -> str:
    """A plain-English summary of ``scene`` for messages (the canonical caption)."""
    return canonical_caption(scene)


EXAMPLE_PROMPT = "a red circle moving left on a blue background"
"""A prompt the model draws right, for help messages."""


def vocabulary_summary() -> str:
    """One paragraph listing what the model can draw, for help and error messages."""
    colors = ", ".join(COLOR_SYNONYMS)
    shapes = ", ".join(SHAPE_SYNONYMS)
    return (
        f"mutoscope-tiny draws one or two coloured shapes ({shapes}) in {colors}, each moving "
        "left, right, up, down, diagonally, bouncing or growing, over a plain or gradient "
        f'backdrop in one of those colours; for example "{EXAMPLE_PROMPT}".'
    )
