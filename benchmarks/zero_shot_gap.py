"""Why a Model I classifier fails zero-shot on Model II: is it the noise?

    python benchmarks/zero_shot_gap.py runs/transfer/runs/transfer_source_resnet18_model_i/seed_0/model.keras

Prints the background (outer 10-pixel frame) std of min-max normalised images of both test splits,
the source model's accuracy on its own test split, zero-shot on the target resampled to the source
grid (``lensml.evaluation.match_dataset_images``), and zero-shot again after adding Gaussian noise of
the source's background std: if the last stays at chance, the gap is not (only) the noise.
"""

import argparse

import numpy as np


def background(images):
    """(median std, median mean) of the outer 10-pixel rows of min-max normalised images."""
    from lensml.evaluation.inputs import minmax_normalize  # the models' own input contract

    x = minmax_normalize(np.asarray(images, dtype=np.float32)).astype(np.float64)[..., 0]
    frame = np.concatenate([x[:, :10].reshape(len(x), -1), x[:, -10:].reshape(len(x), -1)], 1)
    return float(np.median(frame.std(1))), float(np.median(frame.mean(1)))


def main():
    import keras

    from lensml.evaluation import load_data, match_dataset_images

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="the source model (.keras)")
    p.add_argument("--source", default="deeplense/model_i_published_n300")
    p.add_argument("--target", default="deeplense/model_ii_published_n1000")
    args = p.parse_args()
    model = keras.saving.load_model(args.model)
    src, tgt = load_data(args.source, split="test"), load_data(args.target, split="test")
    resampled = np.asarray(match_dataset_images(tgt["images"], args.target, args.source))

    def accuracy(x, y):
        pred = model.predict(x, verbose=0).argmax(1)
        return f"{float((pred == y).mean()):.3f} (predicted classes {np.bincount(pred, minlength=3).tolist()})"

    sd = background(src["images"])[0]
    print(f"background std / mean, {args.source}: {background(src['images'])}")
    print(f"background std / mean, {args.target} resampled: {background(resampled)}")
    print(f"source model on {args.source}: {accuracy(src['images'], src['targets'])}")
    print(f"zero-shot on {args.target}: {accuracy(resampled, tgt['targets'])}")
    from lensml.evaluation.inputs import minmax_normalize

    x = minmax_normalize(resampled)
    noisy = x + np.random.default_rng(0).normal(0, sd, x.shape)
    print(f"zero-shot with Gaussian noise of std {sd:.3f}: {accuracy(noisy.astype('float32'), tgt['targets'])}")


if __name__ == "__main__":
    main()
