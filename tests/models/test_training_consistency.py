"""Models train and infer consistently: LensPINN's batch-norm statistics match between training
and inference (the cause of the quickstart's chance-level test accuracy with train accuracy 0.96),
and ResNets train on odd batch sizes."""

import keras
import numpy as np

import lensml.models as M

SMALL = {"embed_dim": 16, "num_heads": 2, "key_dim": 8, "mlp_dim": 16, "decoder_features": 16,
         "dropout": 0.0, "decoder_options": {"alpha": 0.25, "minimalistic": True}}


def _batch_norms(model):
    return [layer for layer in model._flatten_layers(recursive=True)
            if isinstance(layer, keras.layers.BatchNormalization)]


def test_moving_statistics_of_one_batch_give_its_training_output():
    # With momentum 0, one training-mode pass sets every moving statistic to that batch's.
    # Inference on the same batch must then reproduce the training-mode output: it did not
    # when the shared decoder ran separately on image and source (two sets of batch
    # statistics, one moving average).
    model = M.build("lenspinn_small", (32, 32, 1), 3, head_dropout=0.0, **SMALL)
    x = np.random.default_rng(0).random((6, 32, 32, 1)).astype("float32")
    for layer in _batch_norms(model):
        layer.momentum = 0.0
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    inferred = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(inferred, trained, atol=2e-4)


def test_cnn_backbones_use_momentum_0_9():
    model = M.build("lenspinn_small", (32, 32, 1), 3, **SMALL)
    momenta = {layer.momentum for layer in _batch_norms(model)}
    assert momenta == {0.9}
    model = M.build("mobilenetv3_small", (32, 32, 1), 3, alpha=0.25, minimalistic=True, bn_momentum=0.5)
    assert {layer.momentum for layer in _batch_norms(model)} == {0.5}


def test_resnet_trains_on_an_odd_batch():
    # TF's oneDNN filter gradient of a strided 1x1 convolution corrupted memory for odd batch
    # sizes on AVX-512 CPUs (a ragged last batch of 15 crashed the process); the projection
    # shortcut subsamples then convolves with stride 1 (same values).
    model = M.build("resnet18", (32, 32, 1), 3, width=4, stage_blocks=[1, 1, 1, 1])
    model.compile("adamw", "sparse_categorical_crossentropy")
    x = np.random.default_rng(1).random((7, 32, 32, 1)).astype("float32")
    history = model.fit(x, np.arange(7) % 3, batch_size=7, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    down = model.get_layer("stage2_block1_down")
    assert down.strides == (1, 1) and model.get_layer("stage2_block1_down_subsample").strides == (2, 2)
