"""Self-supervised pretraining for lensing images.

Every trainer is a ``keras.Model`` subclass trained with ``model.fit(images)`` on the
TensorFlow and JAX backends; its loss lives in ``compute_loss``.

- :class:`SimCLR` (NT-Xent; rotation / Gaussian-noise pretexts of the self-supervised DeepLense paper)
- :class:`BYOL`, :class:`SimSiam`, :class:`DINO`, their named heads as each paper describes them
  (:mod:`lensml.ssl.heads`)
- :class:`MAE` (random patch masking, encoder on visible patches only)
- :class:`IJEPA` and :class:`LensJEPA` (physics encoder)
- view generators (:mod:`lensml.ssl.views`), masks (:mod:`lensml.ssl.masking`),
  losses (:mod:`lensml.ssl.losses`), fine-tuning heads (:mod:`lensml.ssl.finetune`).
"""


from lensml._backend import check_backend as _check_backend

_check_backend()  # before Keras is imported: an unsupported backend is one clear error
from lensml.ssl import finetune, heads
from lensml.ssl.byol import BYOL
from lensml.ssl.contrastive import SimCLR
from lensml.ssl.dino import DINO
from lensml.ssl.jepa import IJEPA
from lensml.ssl.lens_jepa import LensJEPA, build_lens_physics_tokenizer
from lensml.ssl.mae import MAE
from lensml.ssl.simsiam import SimSiam
from lensml.layers import PatchTokenizer, TransformerEncoder, patch_tokenizer  # the token stack, exported here too
from lensml.models.common import MeanTokens
from lensml.ssl.tokens import TokenTrainer, build_vit_encoder, image_encoder
from lensml.ssl.views import LensViews, RandomD4, RandomGaussianNoise, RandomPSFBlur, pretext_views

#: The SSL methods by name (``lensml.ssl.factory.build_trainer`` and configs' ``model.name``).
TRAINERS = {"simclr": SimCLR, "byol": BYOL, "simsiam": SimSiam, "dino": DINO, "mae": MAE,
            "ijepa": IJEPA, "lens_jepa": LensJEPA}

__all__ = ["finetune", "heads", "BYOL", "DINO", "IJEPA", "LensJEPA", "build_lens_physics_tokenizer", "MAE", "SimCLR", "SimSiam", "TRAINERS", "LensViews",
           "RandomD4", "RandomGaussianNoise", "RandomPSFBlur", "pretext_views", "PatchTokenizer", "patch_tokenizer",
           "TransformerEncoder", "TokenTrainer", "MeanTokens", "build_vit_encoder", "image_encoder"]

from lensml import _keras_objects  # noqa: E402

_keras_objects.register_if_keras_loaded(finishing=__name__)  # see lensml._keras_objects
