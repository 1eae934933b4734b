"""Every trainer fits on tiny data; EMA targets, collapse guard, saving.

Each trainer is built and trained once per session (compilation dominates the run time):
12 train steps on one repeated batch of 8 distinct 32x32 images.
"""

import keras
import numpy as np
import pytest
from keras import ops

from tests.ssl._helpers import tiny_cnn
from lensml import ssl
from lensml.testing import run_ssl_trainer_test

STEPS = 12
# Small view graphs keep compilation short; the default LensViews is tested in test_ssl_views.
VIEWS = dict(d4="rotations", noise=(0.0, 0.05), blur=None)


def _views(seed):
    return ssl.LensViews(seed=seed, **VIEWS)


def _make(name):
    if name == "simclr":
        return ssl.SimCLR(tiny_cnn(), pretext="rotation", projection_dim=16, hidden_dim=32, seed=1)
    if name == "byol":
        return ssl.BYOL(tiny_cnn(batch_norm=False), projection_dim=16, hidden_dim=32,
                        base_momentum=0.9, total_steps=20, views=_views(1), seed=1)
    if name == "simsiam":
        return ssl.SimSiam(tiny_cnn(), projection_dim=16, predictor_dim=8, views=_views(1), seed=1)
    if name == "dino":
        # A slow centre (0.99): on one repeated batch a fast one keeps moving the teacher's
        # target and the loss (cross-entropy to it) climbs back after a few steps.
        return ssl.DINO(tiny_cnn(batch_norm=False), out_dim=32, hidden_dim=32, bottleneck_dim=16,
                        num_local=1, base_momentum=0.9, total_steps=20, seed=1, center_momentum=0.99,
                        global_views=_views(2),
                        local_views=ssl.LensViews(zoom=(-0.6, -0.4), seed=3, **VIEWS))
    if name == "mae":
        return ssl.MAE(image_shape=(32, 32, 1), patch_size=8, embed_dim=32, depth=1, num_heads=2,
                       decoder_dim=16, mask_ratio=0.75, seed=1)
    if name == "ijepa":
        return ssl.IJEPA(image_shape=(32, 32, 1), patch_size=4, embed_dim=32, depth=1,
                         num_heads=2, predictor_dim=16, predictor_depth=1, base_momentum=0.9,
                         total_steps=20, seed=1)
    if name == "lens_jepa":
        return ssl.LensJEPA(image_shape=(32, 32, 1), patch_size=8, embed_dim=16, depth=1,
                            num_heads=2, predictor_dim=16, predictor_depth=1, k_embed_dim=16,
                            pixel_scale=0.2, base_momentum=0.9, total_steps=20, seed=1)
    raise KeyError(name)


#: Every SSL method lensml registers (a new one needs its tiny constructor above, nothing else here).
NAMES = list(ssl.TRAINERS)
_CACHE = {}


def trained(name, images):
    """(model, per-step losses, EMA check record) for one trainer, trained once."""
    if name not in _CACHE:
        keras.utils.set_random_seed(0)
        model = _make(name)
        if name == "mae":
            _spy_on_encoder(model)
        # XLA compiles slowly on CPU: TF tests use its graph mode (JAX always compiles).
        model.compile(optimizer=keras.optimizers.Adam(3e-3),
                      jit_compile=keras.backend.backend() == "jax")
        losses, ema = [], None
        for step in range(STEPS):
            if step == 1:
                ema = _ema_snapshot(model)
            out = model.train_on_batch(images, return_dict=True)
            if step == 1 and ema is not None:
                ema["after"] = [ops.convert_to_numpy(w) for w in ema["target_vars"]]
            losses.append(out["loss"])
        _CACHE[name] = (model, np.array(losses), ema)
    return _CACHE[name]


def _spy_on_encoder(model):
    """Record the token shapes the MAE encoder is traced with inside ``reconstruct`` (the
    masked path of the train step; ``call`` encodes whole images for inference)."""
    model.encoder_input_shapes = []
    original_call, original_reconstruct = model.encoder.call, model.reconstruct
    inside = []

    def spy(tokens, *args, **kwargs):
        if inside:
            model.encoder_input_shapes.append(tuple(tokens.shape))
        return original_call(tokens, *args, **kwargs)

    def reconstruct(*args, **kwargs):
        inside.append(True)
        try:
            return original_reconstruct(*args, **kwargs)
        finally:
            inside.pop()

    model.encoder.call = spy
    model.reconstruct = reconstruct


def _ema_pairs(model):
    if isinstance(model, ssl.BYOL):
        return [(model.target_encoder, model.encoder), (model.target_projector, model.projector)]
    if isinstance(model, ssl.DINO):
        return [(model.teacher_encoder, model.encoder), (model.teacher_head, model.head)]
    if isinstance(model, ssl.IJEPA):
        return [(model.target_tokenizer, model.tokenizer), (model.target_encoder, model.encoder)]
    return None


def _ema_snapshot(model):
    pairs = _ema_pairs(model)
    if pairs is None:
        return None
    target_vars, online_before, target_before = [], [], []
    for target, online in pairs:
        for t, o in zip(target.weights, online.weights):
            if o.trainable:  # BN statistics move in the forward pass itself
                target_vars.append(t)
                online_before.append(ops.convert_to_numpy(o))
                target_before.append(ops.convert_to_numpy(t))
    return {"target_vars": target_vars, "online": online_before, "target": target_before,
            "momentum": float(ops.convert_to_numpy(model.momentum()))}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "lens_jepa" else n for n in NAMES])
def test_fit_loss_is_finite_and_decreases(name, images):
    _, losses, _ = trained(name, images)
    assert np.all(np.isfinite(losses)), losses
    # views are random every step, so compare averages rather than single steps
    assert losses[-3:].mean() < losses[:2].mean(), losses


@pytest.mark.parametrize("name", ["byol", "dino", "ijepa", "lens_jepa"])
def test_ema_target_is_momentum_average(name, images):
    model, _, ema = trained(name, images)
    m = ema["momentum"]
    # step 1 of total 20: the schedules give m strictly between base and 1
    expected_m = float(ops.convert_to_numpy(model.momentum.__func__(_FakeStep(model, 1))))
    assert m == pytest.approx(expected_m, abs=1e-7)
    assert 0.9 < m < 1.0
    assert len(ema["after"]) > 0
    for after, t0, o0 in zip(ema["after"], ema["target"], ema["online"]):
        np.testing.assert_allclose(after, m * t0 + (1 - m) * o0, rtol=1e-5, atol=1e-6)
    # and the online weights did move (so the check is not vacuous)
    moved = [not np.allclose(o0, ops.convert_to_numpy(o))
             for o0, o in zip(ema["online"], _online_trainables(model))]
    assert any(moved)


class _FakeStep:
    """Stand-in with the trainer's schedule settings and a chosen step."""

    def __init__(self, model, step):
        self.__dict__.update({k: getattr(model, k) for k in
                              ("total_steps", "base_momentum")})
        if hasattr(model, "final_momentum"):
            self.final_momentum = model.final_momentum
        self.step = step


def _online_trainables(model):
    return [o for _, online in _ema_pairs(model) for o in online.weights if o.trainable]


def _spread(model, images):
    """Per-dimension std of the unit-normalised embeddings times sqrt(D): 0 for a collapsed
    encoder (every image the same embedding), 1 for isotropic embeddings. Token models are
    judged on all their tokens (mean pooling hides the image behind the position embeddings)."""
    if isinstance(model, (ssl.MAE, ssl.IJEPA)):
        z = ops.convert_to_numpy(model.image_encoder(pool=None)(images)).reshape(len(images), -1)
    else:
        z = ops.convert_to_numpy(model(images))
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    return float(z.std(axis=0).mean() * np.sqrt(z.shape[1]))


@pytest.mark.parametrize("name", NAMES)
def test_no_collapse_after_short_run(name, images):
    """Collapse guard: training keeps the embeddings of 8 different images apart. Measured
    (trained / at initialisation, TF and JAX): contrastive and BYOL/SimSiam 2.2-4x their initial
    spread, DINO 0.64-0.82x, MAE ~0.5x, (Lens-)JEPA ~0.9x; a collapse takes it to ~0."""
    model, _, _ = trained(name, images)
    keras.utils.set_random_seed(0)
    initial = _spread(_make(name), images)
    spread = _spread(model, images)
    assert spread > 0.3 * initial and spread > 0.03, (spread, initial)


def test_step_counter_and_dino_centre_are_updated(images):
    model, _, _ = trained("dino", images)
    assert float(ops.convert_to_numpy(model.step)) == STEPS
    assert np.abs(ops.convert_to_numpy(model.center)).sum() > 0


def test_dino_teacher_temperature_warms_up_and_last_layer_is_weight_normalised(images):
    model = ssl.DINO(tiny_cnn(batch_norm=False), out_dim=32, hidden_dim=32, bottleneck_dim=16,
                     num_local=0, warmup_teacher_temperature=0.02, teacher_temperature=0.04,
                     teacher_warmup_steps=20, seed=1)
    for step, expected in [(0, 0.02), (5, 0.025), (20, 0.04), (25, 0.04)]:  # linear, then flat
        model.step.assign(float(step))
        assert float(ops.convert_to_numpy(model.teacher_temperature_now())) == pytest.approx(expected)
    # the trained head's last layer maps unit inputs to cosines: its effective kernel has unit columns
    last = trained("dino", images)[0].head.layers[-1]
    kernel = ops.convert_to_numpy(last(ops.eye(last.direction.shape[0])))
    np.testing.assert_allclose(np.linalg.norm(kernel, axis=0), 1.0, rtol=1e-5)
    assert not np.allclose(np.linalg.norm(ops.convert_to_numpy(last.direction), axis=0), 1.0)
    with pytest.raises(ValueError, match="teacher_warmup_steps"):
        ssl.DINO(model.encoder, teacher_warmup_steps=-1)


@pytest.mark.parametrize("name", NAMES)
def test_the_harness_round_trips_every_trainer_and_its_encoder(name, images, tmp_path):
    # lensml.testing, the harness a new method's own test calls: a step more, the trainer and its
    # pretrained encoder through .keras with safe_mode (weights and features unchanged)
    model, _, _ = trained(name, images)
    run_ssl_trainer_test(model, images, tmp_path=tmp_path, steps=1)


def test_a_loaded_trainer_keeps_its_ema_target(images, tmp_path):
    model, _, _ = trained("byol", images)
    path = tmp_path / "byol.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert isinstance(loaded, ssl.BYOL)
    for a, b in zip(loaded.target_encoder.weights, model.target_encoder.weights):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b))


def test_mae_encoder_sees_only_visible_tokens(images):
    model, _, _ = trained("mae", images)
    assert model.num_visible == round(0.25 * 16) == 4
    # the train step traced the encoder on (batch, 4 visible tokens, dim) only
    assert model.encoder_input_shapes and all(s[1] == 4 for s in model.encoder_input_shapes)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="mask_ratio"):
        ssl.MAE(image_shape=(32, 32, 1), mask_ratio=0.95)
    with pytest.raises(ValueError, match="patch_size"):
        ssl.IJEPA(image_shape=(30, 30, 1), patch_size=4)
    with pytest.raises(TypeError, match="encoder"):
        ssl.SimCLR("resnet")
    with pytest.raises(ValueError, match="temperature"):
        ssl.SimCLR(tiny_cnn(), temperature=-1.0)


def test_default_configurations_build():
    """The real defaults: 64x64 MAE and I-JEPA ViTs (patch 8), SimCLR's default head."""
    mae = ssl.MAE()
    assert mae.num_patches == 64 and mae.num_visible == 16
    jepa = ssl.IJEPA()
    assert jepa.grid == (8, 8) and jepa.num_targets == 4
    simclr = ssl.SimCLR(tiny_cnn())
    assert simclr.projector.output_shape == (None, 128) and simclr.temperature == 0.5


def test_lens_jepa_tokenizer_reconstructs_a_source(images):
    """The physics tokenizer: k within [k_min, k_max], a source image from inverse lensing,
    and tokens aligned with the image patches."""
    model, _, _ = trained("lens_jepa", images)
    tok = model.tokenizer
    probe = keras.Model(tok.input, [tok.get_layer("k_map").output, tok.get_layer("source").output,
                                    tok.output])
    k, source, tokens = (ops.convert_to_numpy(a) for a in probe(images))
    assert 0.8 <= k.min() and k.max() <= 1.2
    assert source.shape == images.shape and np.all(np.isfinite(source)) and source.max() > 0
    assert tokens.shape == (8, 16, 16)
