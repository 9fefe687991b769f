"""
Hypothesis strategies and helpers for fuzzing any family's entry points (tokenizers, pipelines, readers, predict).

    hostile_text()        Unicode of every category: control characters, NUL, RTL marks, emoji, 'ß', digits of
                          other scripts, special-token text ('[MASK]', '<|im_end|>'), whitespace
    wrong_types()         values of a Python type no entry point takes as a sample or a sequence
    bad_numbers()         NaN, +-inf, huge / negative / complex numbers, numeric strings, bools
    bad_counts()          what an integer parameter such as top_k must refuse (0, -1, NaN, 2.5, '3', True, None)
    corrupt(valid)        the bytes of a valid file, broken: truncated, UTF-16, binary, NUL bytes, truncated gzip
    run_property(...)     runs a property `check(env, data)` under a budget and a per-example deadline
    assert_clear_error    an error must be ValueError / TypeError whose message names the input (and file)

Budgets: the default suite runs `FAST_EXAMPLES` (env `BIOHF_FUZZ_EXAMPLES`, default 25) per property, derandomized so
CI is reproducible; the `slow` long run `LONG_EXAMPLES` per property (env `BIOHF_FUZZ_LONG_EXAMPLES`, default 1,200),
random. `DEADLINE_MS` (env `BIOHF_FUZZ_DEADLINE_MS`, default 5,000) bounds every single example: a hang fails.
"""

import gzip
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST_EXAMPLES = int(os.environ.get("BIOHF_FUZZ_EXAMPLES", 25))
LONG_EXAMPLES = int(os.environ.get("BIOHF_FUZZ_LONG_EXAMPLES", 1200))
DEADLINE_MS = int(os.environ.get("BIOHF_FUZZ_DEADLINE_MS", 5000))

SPECIAL_TEXT = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<pad>", "<eos>", "<unk>", "<|im_start|>", "<|im_end|>",
                "<|endoftext|>", "</s>", "<s>", "\u200f", "\ufeff", "\x00", "\r\n", "\t", "ß", "İ", "١٢", "😀")


def hostile_text(max_size: int = 40):
    """Text a user (or a corrupted file) could hand over: any code point except surrogates, plus special-token text."""
    any_char = st.characters(exclude_categories=("Cs",))
    control = st.characters(categories=("Cc", "Cf", "Zl", "Zp", "Zs"))
    pieces = st.one_of(st.text(any_char, max_size=8), st.text(control, min_size=1, max_size=3), st.sampled_from(SPECIAL_TEXT))
    return st.lists(pieces, max_size=max_size // 4 + 1).map("".join)


def wrong_types():
    """Values of a type that is neither a string nor an array of numbers."""
    return st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.complex_numbers(), st.binary(max_size=8),
                     st.dictionaries(st.text(max_size=4), st.integers(), max_size=3), st.sets(st.integers(), max_size=3),
                     st.just(object()), st.just(Ellipsis), st.lists(st.none(), min_size=1, max_size=3),
                     st.lists(st.text(max_size=3), min_size=1, max_size=3))


def bad_numbers():
    """Values that are no number in [0, 1]: each must be refused, never cast or clipped. (NaN and None are left out:
    they mean "missing" in most inputs; add them where they are wrong.)"""
    return st.one_of(st.sampled_from([float("inf"), -float("inf"), 1e39, -1e-9, 1.0000001, 3, -1, 255, 1e308]),
                     st.floats(min_value=1.0, exclude_min=True), st.floats(max_value=-5e-324),
                     st.complex_numbers(min_magnitude=1e-6, allow_nan=False).filter(lambda z: z.imag != 0),
                     st.sampled_from(["0.5", "", "x", "NaN", True, False, [0.5], {"a": 1}])).filter(_not_a_beta)


def _not_a_beta(value) -> bool:
    """False for a real number in [0, 1] (a guard: such a value is valid, whatever strategy produced it)."""
    return isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1


def bad_counts():
    """What a positive integer parameter (top_k, a batch size) must refuse."""
    return st.one_of(st.integers(max_value=0), st.floats(), st.sampled_from(["3", "", "a", True, False, 2.5, [3], 3 + 0j]))


def beta_values(missing: float = 0.3):
    """A valid beta value in [0, 1], or NaN (missing) with probability about `missing`."""
    return st.one_of(st.floats(0, 1, width=32), st.just(float("nan"))) if missing else st.floats(0, 1, width=32)


def truncate(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


@st.composite
def corrupt(draw, valid: bytes, text: bool = True):
    """(kind, bytes): a valid file's bytes broken in one of the ways files break in practice."""
    kinds = ["truncated", "binary", "nul", "flipped", "empty", "gzip-truncated"] + (["utf16"] if text else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "truncated":
        return kind, truncate(valid, draw(st.floats(0, 0.999)))
    if kind == "binary":
        return kind, draw(st.binary(min_size=1, max_size=256))
    if kind == "nul":
        at = draw(st.integers(0, len(valid)))
        return kind, valid[:at] + b"\x00" + valid[at:]
    if kind == "flipped":
        at = draw(st.integers(0, max(len(valid) - 1, 0)))
        return kind, valid[:at] + bytes([valid[at] ^ 0x80]) + valid[at + 1:] if valid else b"\x80"
    if kind == "empty":
        return kind, b""
    if kind == "gzip-truncated":
        packed = gzip.compress(valid)
        return kind, truncate(packed, draw(st.floats(0.05, 0.95)))
    return kind, valid.decode("utf-8").encode("utf-16")


def assert_clear_error(error: BaseException, *names) -> None:
    """A clear error: ValueError or TypeError (never IndexError, KeyError, UnicodeDecodeError ...) naming `names`;
    FileNotFoundError only for a path that does not exist, which it names."""
    assert isinstance(error, (ValueError, TypeError, FileNotFoundError)), f"unclear error {type(error).__name__}: {error}"
    assert not isinstance(error, UnicodeError), f"a decoding error leaked: {error}"
    message = str(error)
    for name in names:
        assert str(name) in message, f"the error does not name {name!r}: {message}"


def outcome(call, *names):
    """`(True, result)` when `call()` succeeds, `(False, error)` when it fails clearly (`assert_clear_error`)."""
    try:
        return True, call()
    except Exception as error:  # noqa: BLE001 - the point is to classify every exception
        assert_clear_error(error, *names)
        return False, error


def run_property(check, env, examples: int, long: bool = False) -> int:
    """Run `check(env, data)` on `examples` examples, each within `DEADLINE_MS`; returns how many calls were made."""
    calls = []

    @settings(max_examples=examples, deadline=DEADLINE_MS, database=None, derandomize=not long, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def property_test(data):
        calls.append(1)
        check(env, data)

    property_test()
    return len(calls)


