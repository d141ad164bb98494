"""Seeded synthetic data: social graphs and IC cascades on them (the embedded default of the demo),
and marked Hawkes (MIC) instances with their simulated event logs (paper 002 §7.2)."""

from __future__ import annotations

import numpy as np

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.cascades import CascadeSet
from cascadekit.data.content import Content
from cascadekit.data.graph import SocialGraph
from cascadekit.data.report import ReadReport
from cascadekit.data.splits import random_partition
from cascadekit.data.vocab import Vocabulary
from cascadekit.simulate.hawkes import simulate
from cascadekit.simulate.hawkes_params import HawkesParams
from cascadekit.simulate.ic import simulate_ic


def random_graph(
    n_users: int, *, kind: str = "powerlaw", avg_degree: float = 8.0, seed: int = 0
) -> SocialGraph:
    """A seeded directed graph over users ``"0" … "n-1"``, no self-loops, no duplicate arcs.

    ``erdos_renyi``: G(n, p) with p = avg_degree / (n − 1), drawn as a Binomial number of distinct
    uniform arcs (O(E) memory, not O(n²)).
    ``powerlaw``: users belong to communities of ~50; each user's out-degree is Poisson(avg_degree);
    80 % of arcs stay in the community; targets are drawn with popularity ∝ rank^−0.8, which gives a
    heavy-tailed in-degree (P(in-degree > k) ∝ k^−1.25: a few hubs) and strong local structure, as
    in follower graphs. Duplicate draws are merged, so the mean out-degree is a little below
    ``avg_degree``.
    ``communities``: the same communities with uniform targets: strong local structure and no
    hubs (degrees about Poisson), for processes whose null must not differ in degree.
    """
    if n_users < 2:
        raise ValueError("need at least 2 users")
    rng = np.random.default_rng(seed)
    vocab = Vocabulary.range(n_users)
    if kind == "erdos_renyi":
        n_pairs = n_users * (n_users - 1)
        m = int(rng.binomial(n_pairs, min(1.0, avg_degree / (n_users - 1))))
        keys = np.zeros(0, dtype=np.int64)
        while len(keys) < m:  # redrawing repeats keeps the m arcs a uniform m-subset
            keys = np.sort(np.concatenate([keys, rng.integers(0, n_pairs, m - len(keys))]))
            keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
        # pair key → (src, dst ≠ src): dst skips the diagonal
        src, off = keys // (n_users - 1), keys % (n_users - 1)
        return SocialGraph.from_edges(src, off + (off >= src), vocab)
    exponents = {"powerlaw": 0.8, "communities": 0.0}
    if kind not in exponents:
        raise ValueError(f"kind must be 'powerlaw', 'communities' or 'erdos_renyi', got {kind!r}")
    n_comm = max(1, n_users // 50)
    community = rng.integers(0, n_comm, n_users)
    popularity = rng.permutation((np.arange(n_users) + 1.0) ** -exponents[kind])
    src = np.repeat(np.arange(n_users), rng.poisson(avg_degree, n_users))
    local = rng.random(len(src)) < 0.8
    dst = np.empty(len(src), dtype=np.int64)
    dst[~local] = rng.choice(n_users, size=int((~local).sum()), p=popularity / popularity.sum())
    # local targets: inverse-CDF sampling inside the source's community segment of the
    # popularity mass, all arcs at once
    by_comm = np.argsort(community, kind="stable")
    cum = np.cumsum(popularity[by_comm])
    seg_end = np.searchsorted(community[by_comm], np.arange(n_comm), side="right")
    seg_start = np.concatenate([[0], seg_end[:-1]])
    c = community[src[local]]
    lo = np.where(seg_start[c] > 0, cum[seg_start[c] - 1], 0.0)
    hi = cum[np.maximum(seg_end[c] - 1, 0)]
    pick = np.searchsorted(cum, lo + rng.random(len(c)) * (hi - lo), side="right")
    dst[local] = by_comm[np.clip(pick, seg_start[c], seg_end[c] - 1)]
    keep = src != dst
    return SocialGraph.from_edges(src[keep], dst[keep], vocab)


def synthetic_cascades(
    n_users: int = 500,
    n_cascades: int = 2000,
    *,
    avg_degree: float = 8.0,
    edge_prob: float = 0.12,
    rate: float = 1.0,
    seed: int = 0,
    min_size: int = 2,
    graph_kind: str = "powerlaw",
) -> DatasetBundle:
    """Graph + continuous-time IC cascades from uniformly random seed users, split 80/10/10.

    Arc probabilities are heterogeneous, p_uv = edge_prob · 2·U(0, 1) (mean ``edge_prob``), so some
    ties matter far more than others — what a next-user model should learn. Cascades shorter than
    ``min_size`` are dropped and counted in the report (``short_cascade_dropped``), so fewer than
    ``n_cascades`` remain (about 55 % with the defaults). Cascade ids are ``"<draw>/0"``; the
    shipped-style split is a seeded random 80/10/10 partition by cascade.
    """
    rng = np.random.default_rng(seed)
    graph = random_graph(n_users, kind=graph_kind, avg_degree=avg_degree, seed=seed)
    p = np.clip(edge_prob * 2 * rng.random(graph.n_arcs), 0, 1)
    seeds = rng.integers(0, n_users, n_cascades)
    cascades = simulate_ic(graph, seeds, edge_prob=p, rate=rate, seed=seed + 1)
    keep = cascades.lengths >= min_size
    report = ReadReport(source="synthetic")
    report.add("short_cascade_dropped", int((~keep).sum()))
    cascades = cascades.subset(keep)
    cascades.attrs = {"name": "synthetic", "time_unit": "1/rate"}
    parts = random_partition(len(cascades), (0.8, 0.1, 0.1), seed=seed)
    splits = dict(zip(("train", "valid", "test"), parts, strict=True))
    info = {
        "generator": "synthetic_cascades",
        "n_users": n_users,
        "n_cascades_drawn": n_cascades,
        "avg_degree": avg_degree,
        "edge_prob": edge_prob,
        "rate": rate,
        "seed": seed,
        "min_size": min_size,
        "graph_kind": graph_kind,
    }
    return DatasetBundle(
        "synthetic", cascades=cascades, splits=splits, graph=graph, report=report, info=info
    )


def random_mic_params(
    n_users: int = 50,
    sigma: np.ndarray | None = None,
    *,
    tau: float = 3.0,
    beta: float = 5.0,
    branching: float = 0.5,
    p: float = 0.1,
    mu_max: float = 0.2,
    seed: int = 0,
) -> HawkesParams:
    """The synthetic MIC instance of paper 002 §7.2.1: Erdős–Rényi support with edge probability
    ``p`` (no self loops), w ~ U[0, 1] on it rescaled so that ρ(Wᵀ)·τ = ``branching`` (stationary
    for < 1), μ_u^c ~ U[0, ``mu_max``]; ``sigma`` defaults to the 3-cascade Σ* of Fig. 3."""
    if not 0 < branching < 1:
        raise ValueError(f"branching must be in (0, 1) for a stationary process, got {branching}")
    if sigma is None:
        sigma = np.array([[1.0, 0.0, 0.0], [0.71, 0.29, 0.0], [0.0, 0.0, 1.0]])
    sigma = np.asarray(sigma, dtype=float)
    rng = np.random.default_rng(seed)
    support = rng.random((n_users, n_users)) < p
    np.fill_diagonal(support, False)
    W = np.where(support, rng.uniform(0.0, 1.0, (n_users, n_users)), 0.0)
    rho = np.max(np.abs(np.linalg.eigvals(W.T)))
    if rho > 0:
        W *= branching / (tau * rho)
    mu = rng.uniform(0.0, mu_max, (n_users, len(sigma)))
    return HawkesParams(mu=mu, W=W, Sigma=sigma, tau=tau, beta=beta, phi="boltzmann")


def synthetic_params(
    n_users: int = 20,
    *,
    tau: float = 3.0,
    beta: float = 5.0,
    sigma21: float = 0.7,
    branching: float = 0.5,
    p: float = 0.2,
    seed: int = 0,
) -> HawkesParams:
    """`random_mic_params` with 3 cascades and Σ row 2 = [σ21, 1 − σ21, 0] (cascade 1 reinforces
    cascade 0), the other rows identity."""
    if not 0 <= sigma21 <= 1:
        raise ValueError(f"sigma21 must be in [0, 1], got {sigma21}")
    sigma = np.eye(3)
    sigma[1] = [sigma21, 1.0 - sigma21, 0.0]
    return random_mic_params(
        n_users, sigma, tau=tau, beta=beta, branching=branching, p=p, seed=seed
    )


def synthetic_variant_params(variant: str, *, seed: int = 0, **options: float) -> HawkesParams:
    """`synthetic_params` as the Table 1 ``variant`` ("ic", "linmic", "cc", "mic"): linear mixing
    for IC/linMIC, Σ = I for IC/CC; unknown options are an error listing the known ones."""
    import inspect
    from dataclasses import replace

    from cascadekit.errors import CascadeKitError
    from cascadekit.simulate.hawkes_params import VARIANTS

    if variant not in VARIANTS:
        raise CascadeKitError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    known = set(inspect.signature(synthetic_params).parameters) - {"seed"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise CascadeKitError(
            f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    params = synthetic_params(seed=seed, **options)
    phi, learned = VARIANTS[variant]
    sigma = params.Sigma if learned else np.eye(params.n_cascades)
    return replace(params, phi=phi, Sigma=sigma)


def synthetic_mic(
    n_users: int = 20, *, t_end: float = 200.0, seed: int = 0, **options: float
) -> tuple[DatasetBundle, HawkesParams]:
    """A simulated MIC event log on [0, t_end] (`synthetic_params` with ``options``), with W's
    support as its graph, and the true parameters."""
    params = synthetic_params(n_users, seed=seed, **options)
    events = simulate(params, t_end, seed=seed + 1)
    src, dst = np.nonzero(params.W)
    graph = SocialGraph.from_edges(src, dst, events.user_vocab, directed=True)
    bundle = DatasetBundle(
        name="synthetic_mic", events=events, graph=graph, info={"truth": "synthetic_params"}
    )
    return bundle, params


def _synthetic_mic_bundle(
    n_users: int = 20,
    *,
    t_end: float = 200.0,
    tau: float = 3.0,
    beta: float = 5.0,
    sigma21: float = 0.7,
    branching: float = 0.5,
    p: float = 0.2,
    seed: int = 0,
) -> DatasetBundle:
    """`synthetic_mic`'s bundle, with every option spelled out (`--data synthetic_mic`)."""
    return synthetic_mic(
        n_users, t_end=t_end, tau=tau, beta=beta, sigma21=sigma21, branching=branching, p=p,
        seed=seed,
    )[0]  # fmt: skip


def synthetic_popularity(
    n_cascades: int = 400,
    n_users: int = 2000,
    *,
    obs: float = 3600.0,
    horizon: float = 86400.0,
    seed: int = 0,
) -> DatasetBundle:
    """Seeded Weibo-like cascades whose increment is a known function of the observed size and
    timing: the planted problem of the popularity task (`tasks.popularity`).

    Cascade i is published at 2016-06-01 00:00 Beijing time + i · 1800 s + U(0, 600) s (unix
    seconds; publish hours cycle through the day). It has n = min(9 + Geometric(1/20), 200)
    adoptions before ``obs`` (the root at 0 included) at times obs · u^(1/k), u ~ U(0, 1), with a
    momentum k ∈ {0.5, 2} (k = 2: adoptions crowd the end of the window, the cascade
    accelerates), then exactly round(n · k) adoptions uniform in [obs, horizon) — the label — and
    n // 4 after the horizon (never counted). Each adopter reposts the root with probability 1/2,
    else a uniformly drawn earlier adopter. Adopters are drawn without replacement, with
    probability ∝ rank^−0.8 among ``n_users`` users. No split is shipped (the task splits).
    """
    if n_users < 650:
        raise ValueError("n_users must be >= 650 (a cascade adopts up to 650 distinct users)")
    rng = np.random.default_rng(seed)
    weight = np.arange(1, n_users + 1, dtype=np.float64) ** -0.8
    weight /= weight.sum()
    start = 1464710400.0 + 1800.0 * np.arange(n_cascades) + rng.uniform(0, 600, n_cascades)
    observed = np.minimum(9 + rng.geometric(1 / 20, n_cascades), 200)
    momentum = rng.choice([0.5, 2.0], n_cascades)
    users, times, parents = [], [], []
    for t0, n, k in zip(start, observed, momentum, strict=True):
        label, late = int(round(n * k)), n // 4
        rel = np.concatenate([
            [0.0], np.sort(obs * rng.random(n - 1) ** (1 / k)),
            np.sort(rng.uniform(obs, horizon, label)),
            np.sort(rng.uniform(horizon, 2 * horizon, late)),
        ])  # fmt: skip
        size = len(rel)
        earlier = np.floor(rng.random(size) * np.arange(size)).astype(np.int64)
        parent = np.where(rng.random(size) < 0.5, 0, earlier)
        parent[0] = -1
        users.append(rng.choice(n_users, size, replace=False, p=weight))
        times.append(t0 + rel)
        parents.append(parent)
    cascades = CascadeSet.from_sequences(
        users, Vocabulary.range(n_users), times=times, parents=parents,
        ids=[f"c{i}" for i in range(n_cascades)], root_times=start,
        attrs={"name": "synthetic_popularity", "time_unit": "s"},
    )  # fmt: skip
    info = {"generator": "synthetic_popularity", "n_cascades": n_cascades, "n_users": n_users,
            "obs": obs, "horizon": horizon, "seed": seed,
            "label": "round(n_observed * momentum), momentum in {0.5, 2}"}  # fmt: skip
    return DatasetBundle("synthetic_popularity", cascades=cascades, info=info)


# words of the planted-modality texts: "hot" texts drive a fast-growing cascade when text drives
HOT_WORDS = ("突发", "爆炸", "紧急", "breaking", "urgent", "快转")
COLD_WORDS = ("天气", "早餐", "散步", "weather", "coffee", "周末")


def synthetic_multimodal(
    n_cascades: int = 600,
    n_users: int = 3000,
    *,
    driver: str = "text",
    growth: str = "scaled",
    images: bool = False,
    obs: float = 1800.0,
    horizon: float = 86400.0,
    seed: int = 0,
) -> DatasetBundle:
    """Seeded cascades with a source text and a poster profile where one modality, ``driver``,
    decides how fast a cascade grows: the planted-modality problem of MMCAs (paper 003).

    Cascade i is posted by user i (posters are distinct; reposters are drawn ∝ rank^−0.8 from the
    other users) at 2016-06-01 00:00 Beijing time + i · 1800 s. It has n = min(9 + Geometric(1/20),
    200) adoptions uniform in [0, ``obs``) (the root at 0), then the label uniform in [obs,
    horizon): round(n · k) with ``growth="scaled"`` (the observed dynamics and the driver are
    both needed), round(30 · k) with ``growth="alone"`` (the driver alone decides it), k ∈
    {0.5, 2} with probability 1/2 each. The observed dynamics tell n, never k:
    * ``driver="text"``: the source text is four words drawn from `HOT_WORDS` when k = 2, from
      `COLD_WORDS` when k = 0.5; the poster's followers ~ LogNormal(7, 1.5) whatever k;
    * ``driver="profile"``: followers ~ LogNormal(9.5, 0.5) when k = 2, LogNormal(5, 0.5) when
      k = 0.5; the text is four words drawn from both lists whatever k.
    * ``driver="image"`` (needs ``images``): the source post's image is warm when k = 2, cool
      when k = 0.5 (`planted_images`); text and followers as for the other drivers' neutral side.
    With ``images``, ``content.image_features`` holds every source image's EfficientNet-Lite0
    features (`features.image`, the vision extra); the images tell nothing unless they drive.
    Content: ``texts`` (source posts), ``profiles`` ``followers``, ``friends`` (~ LogNormal(5, 1),
    independent) and ``verified_type`` (−1 or 0, independent) over every user (NaN / −1 for users
    who never post); ``cascades.events["text"]`` is each adoption's post (the source text at the
    root, "" for the reposts). ``meta["k"]`` records k.
    """
    if driver not in ("text", "profile", "image"):
        raise ValueError(f"driver must be 'text', 'profile' or 'image', got {driver!r}")
    if driver == "image" and not images:
        raise ValueError("driver='image' needs images=True")
    if growth not in ("scaled", "alone"):
        raise ValueError(f"growth must be 'scaled' or 'alone', got {growth!r}")
    if n_users < n_cascades + 650:
        raise ValueError("n_users must be >= n_cascades + 650 (distinct posters, then reposters)")
    rng = np.random.default_rng(seed)
    pool = np.arange(n_cascades, n_users)
    weight = np.arange(1, len(pool) + 1, dtype=np.float64) ** -0.8
    weight /= weight.sum()
    start = 1464710400.0 + 1800.0 * np.arange(n_cascades)
    observed = np.minimum(9 + rng.geometric(1 / 20, n_cascades), 200)
    k = rng.choice([0.5, 2.0], n_cascades)
    fast = k > 1
    if driver == "text":
        words = [rng.choice(HOT_WORDS if f else COLD_WORDS, 4) for f in fast]
        followers = rng.lognormal(7.0, 1.5, n_cascades)
    elif driver == "image":
        words = [rng.choice(HOT_WORDS + COLD_WORDS, 4) for _ in fast]
        followers = rng.lognormal(7.0, 1.5, n_cascades)
    else:
        words = [rng.choice(HOT_WORDS + COLD_WORDS, 4) for _ in fast]
        followers = np.where(fast, rng.lognormal(9.5, 0.5, n_cascades),
                             rng.lognormal(5.0, 0.5, n_cascades))  # fmt: skip
    texts = [" ".join(w) for w in words]
    users, times, parents, post_texts = [], [], [], []
    for i, (n, kk) in enumerate(zip(observed, k, strict=True)):
        label = int(round((n if growth == "scaled" else 30) * kk))
        rel = np.concatenate([[0.0], np.sort(rng.uniform(0, obs, n - 1)),
                              np.sort(rng.uniform(obs, horizon, label))])  # fmt: skip
        size = len(rel)
        users.append(np.concatenate([[i], rng.choice(pool, size - 1, replace=False, p=weight)]))
        times.append(start[i] + rel)
        parent = np.floor(rng.random(size) * np.arange(size)).astype(np.int64)
        parent[0] = -1
        parents.append(parent)
        post_texts += [texts[i]] + [""] * (size - 1)
    profiles = {
        "followers": np.concatenate([followers, np.full(n_users - n_cascades, np.nan)]),
        "friends": np.concatenate(
            [rng.lognormal(5.0, 1.0, n_cascades), np.full(n_users - n_cascades, np.nan)]
        ),  # fmt: skip
        "verified_type": np.concatenate(
            [rng.choice([-1.0, 0.0], n_cascades), np.full(n_users - n_cascades, -1.0)]
        ),  # fmt: skip
    }
    ids = [f"c{i}" for i in range(n_cascades)]
    cascades = CascadeSet.from_sequences(
        users, Vocabulary.range(n_users), times=times, parents=parents, ids=ids,
        root_times=start, meta={"k": k}, events={"text": np.asarray(post_texts, dtype=object)},
        attrs={"name": "synthetic_multimodal", "time_unit": "s"},
    )  # fmt: skip
    features = mask = None
    if images:
        from cascadekit.features.image import encode_images

        features = encode_images(planted_images(fast if driver == "image" else None,
                                                n_cascades, seed))  # fmt: skip
        mask = np.ones(n_cascades, dtype=bool)
    content = Content(cascade_ids=ids, texts=dict(zip(ids, texts, strict=True)), profiles=profiles,
                      image_features=features, image_mask=mask)  # fmt: skip
    info = {"generator": "synthetic_multimodal", "driver": driver, "n_cascades": n_cascades,
            "n_users": n_users, "obs": obs, "horizon": horizon, "seed": seed, "growth": growth,
            "label": f"round({'n_observed' if growth == 'scaled' else 30} * k), k in "
                     f"{{0.5, 2}} set by the {driver}"}  # fmt: skip
    return DatasetBundle("synthetic_multimodal", cascades=cascades, content=content, info=info)


def planted_images(fast: np.ndarray | None, n: int, seed: int) -> list[np.ndarray]:
    """``n`` 32 × 32 RGB images (uint8): noise over one colour, warm (red) where ``fast`` and
    cool (blue) elsewhere, or a random hue for every image when ``fast`` is None (images that
    tell nothing). Drawn from their own stream: the cascades do not change with ``images``."""
    rng = np.random.default_rng([seed, 1])
    warm, cool = np.array([200.0, 60.0, 40.0]), np.array([40.0, 80.0, 200.0])
    out = []
    for i in range(n):
        base = rng.uniform(30, 220, 3) if fast is None else (warm if fast[i] else cool)
        pixels = base + rng.normal(0.0, 25.0, (32, 32, 3))
        out.append(np.clip(pixels, 0, 255).astype(np.uint8))
    return out


# the generators `--data` accepts by name, with their keyword options (`--data-set key=value`)
GENERATORS = {
    "synthetic": synthetic_cascades,
    "synthetic_mic": _synthetic_mic_bundle,
    "synthetic_popularity": synthetic_popularity,
    "synthetic_multimodal": synthetic_multimodal,
}
