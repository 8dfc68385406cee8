# scripts/autobahn-wstest.py - runs wstest (Autobahn|Testsuite, Python 2.7)
# with a faster UTF-8 validator that gives the same answers.
#
#   python scripts/autobahn-wstest.py -m fuzzingclient -s spec.json
#
# wstest checks every text message the implementation under test sends with
# wsaccel's validator, a byte-at-a-time DFA: on the compression cases (up
# to 1,000 text messages of 128 KiB per case) it is most of the suite's
# time. This validator keeps the DFA's answers, exactly: it checks the
# complete code points of each chunk with CPython's C UTF-8 decoder, which
# agrees with the DFA except that Python 2 accepts UTF-16 surrogates
# (ED A0..BF), so those are searched for as well. An incomplete code point
# at the end of a chunk is carried into the next one. Whenever the fast
# check is not sure the chunk is valid, it hands the whole chunk to the DFA,
# which then does all the work until the next reset, so every invalid
# input gets the DFA's exact answer (index included).
#
# Before running wstest, the two validators are compared on random and
# hand-picked inputs cut into random chunks; any difference stops the run.
import random
import re
import sys

from autobahn.websocket import utf8validator as reference_module

ExactValidator = reference_module.Utf8Validator
SURROGATE = re.compile(b"\xed[\xa0-\xbf]")


def sequence_length(lead):
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 1


def complete_prefix(data):
    """Length of data without an incomplete last code point."""
    n = len(data)
    for back in range(1, min(4, n + 1)):
        byte = ord(data[n - back])
        if not 0x80 <= byte <= 0xBF:
            return n - back if back < sequence_length(byte) else n
    return n


class FastUtf8Validator(object):
    def __init__(self):
        self.reset()

    def reset(self):
        self.exact = None  # the DFA, once it has taken over
        self.carry = b""   # an incomplete code point from the last chunk
        self.i = 0

    def validate(self, ba):
        if self.exact is not None:
            return self.exact.validate(ba)
        ba = bytes(ba)
        data = self.carry + ba
        cut = complete_prefix(data)
        head, tail = data[:cut], data[cut:]
        if self.fast_ok(head, tail):
            self.carry = tail
            self.i += len(ba)
            return True, not tail, len(ba), self.i
        # Replay on the DFA from this chunk's start: the carried bytes are a
        # valid prefix, so the DFA is where it would have been.
        self.exact = ExactValidator()
        self.exact.validate(self.carry)
        valid, ends, index, _ = self.exact.validate(ba)
        self.exact.i = self.i + index
        if valid:
            self.exact.i = self.i + len(ba)
        return valid, ends, index, self.exact.i

    @staticmethod
    def fast_ok(head, tail):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if SURROGATE.search(head):
            return False
        if tail:
            probe = ExactValidator()
            valid, ends, _, _ = probe.validate(tail)
            return valid and not ends
        return True


def self_check(rounds=3000, seed=6455):
    rng = random.Random(seed)
    pieces = [b"a", b"\x7f", b"\xc2\x80", b"\xdf\xbf", b"\xe0\xa0\x80", b"\xed\x9f\xbf",
              b"\xee\x80\x80", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xc0\x80",
              b"\xc1\xbf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf0\x80\x80\x80",
              b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xff", b"\x80",
              b"\xbf", b"\xe2\x82", b"\xf0\x9f", u"\u00e9\u4e2d\U0001f600".encode("utf-8")]
    for r in range(rounds):
        if r % 2:
            data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        else:
            data = bytes(bytearray(rng.randint(0, 255) for _ in range(rng.randint(0, 12))))
        chunks, at = [], 0
        while at < len(data):
            step = rng.randint(0, 5)
            chunks.append(data[at:at + step])
            at += step
        chunks.append(b"")
        fast, exact = FastUtf8Validator(), ExactValidator()
        for chunk in chunks:
            a, b = fast.validate(chunk), exact.validate(chunk)
            if a != b:
                sys.exit("autobahn-wstest.py: validators differ on %r cut as %r: %r vs %r"
                         % (data, chunks, a, b))


def main():
    self_check()
    from autobahn.websocket import protocol
    reference_module.Utf8Validator = FastUtf8Validator
    protocol.Utf8Validator = FastUtf8Validator
    from autobahntestsuite.wstest import run
    sys.argv[0] = "wstest"
    sys.exit(run())


if __name__ == "__main__":
    main()
