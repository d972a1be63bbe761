"""What the fuzz tests share: the refusals we allow, and one call that either works or refuses naming the argument."""
import warnings

EXPECTED = (ValueError, TypeError)


def call(f, name: str, value, **valid):
    "Call `f` with argument `name` set to `value`: either it works, or it refuses in our words naming `name`."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return f(**{**valid, name: value})
        except EXPECTED as e:
            assert name in str(e), f"{getattr(f, '__qualname__', f)}({name}={value!r}) raised without naming it: {e!r}"
            return e
