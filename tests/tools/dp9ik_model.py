#!/usr/bin/env python3
"""A Python big-int transcription of 9front's sys/src/libauthsrv/*.mp files
(msqrt.mp, edwards.mp, decaf.mp, elligator2.mp, spake2ee.mp, ed448.mp) and
of authpak.c's authpak_hash, written line by line from those files (read
from the 9front/9front repository, 2026). It is independent of the C code
in server/curve/ (different language, plain integers, no limbs) and is
where the known answers in tests/unit/curve.c and tests/unit/auth.c come
from: `python3 tests/tools/dp9ik_model.py` prints them.

It shares its reading of 9front with the C code, so a misreading would be
in both; tests/tools/authsrv_probe.c checks against drawterm for that."""
import hashlib, hmac
P = (1 << 448) - (1 << 224) - 1
A = 1
D = -39081 % P
GX = 117812161263436946737282484343310064665180535357016373416879082147939404277809514858788439644911793978499419995990477371552926308078495
GY = 19
HALF = (P - 1) >> 1

def inv(x): return pow(x, P - 2, P)
def legendre(a):
    r = pow(a, (P - 1) >> 1, P)
    return -1 if r == P - 1 else r
def msqrt(a):
    a %= P
    if legendre(a) != 1 or a == 0: return 0
    return pow(a, (P + 1) >> 2, P)
def misqrt(a): return pow(a % P, (P - 3) >> 2, P)
def neg(n, r): return (-r) % P if n % P > HALF else r

def add(p1, p2):
    X1, Y1, Z1, T1 = p1; X2, Y2, Z2, T2 = p2
    a = X1 * X2 % P; b = Y1 * Y2 % P; c = D * T1 * T2 % P; d = Z1 * Z2 % P
    e = ((X1 + Y1) * (X2 + Y2) - a - b) % P
    f = (d - c) % P; g = (d + c) % P; h = (b - A * a) % P
    return (e * f % P, g * h % P, f * g % P, e * h % P)

def scale(s, pt):
    x3 = pt if s & 1 else (0, 1, 1, 0)
    x2 = pt; k = s >> 1; j = P >> 1
    while j:
        x2 = add(x2, x2); x4 = add(x2, x3)
        if k & 1: x3 = x4
        k >>= 1; j >>= 1
    return x3

def encode(pt):
    X, Y, Z, T = pt
    r = misqrt((A - D) * (Z + Y) * (Z - Y))
    u = (A - D) * r % P
    r = neg(-2 * u * Z % P, r)
    s = u * (r * (A * Z * X - D * Y * T) + Y) % P * inv(A) % P
    return neg(s, s)

def decode(s):
    if s > HALF: return None
    ss = s * s % P; Z = (1 + A * ss) % P; u = (Z * Z - 4 * D * ss) % P; v = u * ss % P
    if v != 0:
        r = msqrt(v)
        if r == 0: return None
        v = inv(r)
    v = neg(u * v % P, v)
    w = v * s * (2 - Z) % P
    if s == 0: w = (w + 1) % P
    X = 2 * s % P
    return (X, w * Z % P, Z, w * X % P)

def elligator2(n, r0):
    r = n * r0 * r0 % P
    Dd = (D * r + A - D) * (D * r - A * r - D) % P
    N = (r + 1) * (A - 2 * D) % P
    ND = N * Dd % P
    if ND == 0: c, e = 1, 0
    else:
        e = msqrt(ND)
        if e != 0: c, e = 1, inv(e)
        else: c, e = -1, n * r0 * misqrt(n * ND) % P
    s = c * N * e % P
    t = (-c * N * (r - 1) * pow((A - 2 * D) * e, 2, P) - 1) % P
    a2 = A * s * s % P
    return (2 * s * t % P, (1 - a2) * (1 + a2) % P, (1 + a2) * t % P, 2 * s * (1 - a2) % P)

def nonsquare():
    n = 2
    while legendre(n) != -1: n += 1
    return n

def h2p(h): return elligator2(nonsquare(), h % P)

def be(x, n=56): return x.to_bytes(n, 'big')

def hkdf_sha256(salt, info, ikm, n):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, c = b'', b'', 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([c]), hashlib.sha256).digest()
        out += t; c += 1
    return out[:n]

def passtoaeskey(pw):
    return hashlib.pbkdf2_hmac('sha1', pw.encode(), b'Plan 9 key derivation', 9001, 16)

def canon(pt): return b''.join(be(c % P) for c in pt)

def authpak_hash(aes, user):
    salt = hashlib.sha256(user.encode()).digest()
    h = hkdf_sha256(salt, b'Plan 9 AuthPAK hash', aes, 112)
    pm = h2p(int.from_bytes(h[:56], 'big'))
    pn = h2p(int.from_bytes(h[56:], 'big'))
    return pm, pn

def spake_y(x, blind):
    G = (GX, GY, 1, GX * GY % P)
    return encode(add(scale(x, G), blind))

def spake_z(x, y, blind):
    q = decode(y)
    if q is None: return None
    nb = ((-blind[0]) % P, blind[1], blind[2], (-blind[3]) % P)
    return encode(scale(x, add(q, nb)))

def authpak_key(z, yc, ys):
    salt = hashlib.sha256(be(yc) + be(ys)).digest()
    return hkdf_sha256(salt, b'Plan 9 AuthPAK key', be(z), 32)

# --- p9sk1 pieces: libc encrypt() with 7-byte DES keys, passtodeskey ---
def des56to64(k):
    bits = int.from_bytes(bytes(k), 'big')
    out = []
    for i in range(8):
        b = ((bits >> (49 - 7 * i)) & 0x7f) << 1
        out.append(b | (bin(b).count('1') + 1) % 2)
    return bytes(out)

def des_block(key7, block, enc=True):
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    c = Cipher(TripleDES(des56to64(key7) * 3), modes.ECB())  # E(k) D(k) E(k) = single DES
    op = c.encryptor() if enc else c.decryptor()
    return op.update(bytes(block)) + op.finalize()

def p9encrypt(key7, buf):
    buf = bytearray(buf); n = len(buf) - 1; r = n % 7; n //= 7
    for i in range(n):
        buf[7*i:7*i+8] = des_block(key7, buf[7*i:7*i+8])
    if r:
        o = 7 * n - 7 + r
        buf[o:o+8] = des_block(key7, buf[o:o+8])
    return bytes(buf)

def passtodeskey(pw):
    buf = bytearray(b' ' * 8 + b'\0' * 20)
    p = pw.encode()[:27]; n = len(p)
    buf[:n] = p; buf[n] = 0
    t = 0
    while True:
        key = bytes(((buf[t+i] >> i) + (buf[t+i+1] << (8 - (i + 1)))) & 0xff for i in range(7))
        if n <= 8: return key
        n -= 8; t += 8
        if n < 8:
            t -= 8 - n; n = 8
        buf[t:t+8] = p9encrypt(key, buf[t:t+8])

def form1_seal(sig, counter, key, body):
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    nonce = sig + counter.to_bytes(4, 'little')
    return nonce + ChaCha20Poly1305(key).encrypt(nonce, body, None)

def hx(b): return b.hex() if isinstance(b, bytes) else be(b).hex()

if __name__ == '__main__':
    G = (GX, GY, 1, GX * GY % P)
    print('nonsquare', nonsquare())
    for v in (3, 2**447 + 12345, P - 1):
        print('inv', hx(v), hx(inv(v)))
    for v in (4, 2**300 + 7):
        r = msqrt(v)
        print('msqrt', hx(v), hx(r), 'misqrt', hx(misqrt(v)))
    for k in (1, 2, 3, 0xdeadbeef, P - 2, (1 << 447) + 1):
        print('scale', hx(k), hx(encode(scale(k, G))))
    for r0 in (0, 1, 2, 12345, (1 << 448) - 1):
        pt = elligator2(7, r0 % P)
        print('ell2', hx(r0), canon(pt).hex(), 'encoded', hx(encode(pt)))
    aes = passtoaeskey('gridboot-test')
    pm, pn = authpak_hash(aes, 'glenda')
    print('aes', aes.hex())
    print('PM', canon(pm).hex())
    print('PN', canon(pn).hex())
    xc = int.from_bytes(hashlib.sha512(b'client x').digest()[:56], 'big') % P
    xs = int.from_bytes(hashlib.sha512(b'server x').digest()[:56], 'big') % P
    yc = spake_y(xc, pm); ys = spake_y(xs, pn)
    zc = spake_z(xc, ys, pn); zs = spake_z(xs, yc, pm)
    assert zc == zs
    print('xc', hx(xc)); print('xs', hx(xs))
    print('yc', hx(yc)); print('ys', hx(ys)); print('z', hx(zc))
    print('pakkey', authpak_key(zc, yc, ys).hex())
    for pw in ('gridboot-test', 'a', 'password', 'a much longer password!!'):
        print('passtodeskey', repr(pw), passtodeskey(pw).hex())
    # a DES ticket (p9sk1): num chal[8] cuid[28] suid[28] key[7]
    tk = bytes([65]) + bytes(range(1, 9)) + b'glenda'.ljust(28, b'\0') + b'glenda'.ljust(28, b'\0') + bytes(range(0x10, 0x17))
    print('des ticket', p9encrypt(passtodeskey('gridboot-test'), tk).hex())
    # a form 1 ticket: sealed body = chal cuid suid key[32]
    body = bytes(range(1, 9)) + b'glenda'.ljust(28, b'\0') + b'glenda'.ljust(28, b'\0') + bytes(range(0x20, 0x40))
    print('form1 ticket', form1_seal(b'form1 Tc', 7, bytes(range(0x40, 0x60)), body).hex())
    # a form 1 authenticator: chal rand[32]
    print('form1 auth', form1_seal(b'form1 Ac', 0x01020304, bytes(range(0x20, 0x40)), bytes(range(1, 9)) + bytes(range(0x60, 0x80))).hex())
    # a Passwordreq (convPR2M): num old[28] new[28] changesecret secret[32],
    # under an AuthTp ticket's key: DES (form 0) and form 1 ("form1 PR")
    pr = bytes([3]) + b'gridboot-test'.ljust(28, b'\0') + b'new-password-1'.ljust(28, b'\0') + bytes([1]) + b'pop-secret'.ljust(32, b'\0')
    print('passreq des', p9encrypt(bytes(range(0x10, 0x17)), pr).hex())
    print('passreq form1', form1_seal(b'form1 PR', 2, bytes(range(0x20, 0x40)), pr[1:]).hex())
