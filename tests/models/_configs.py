"""Tiny options per registered model so the whole suite stays fast (the real default
configurations are built once in test_default_configs)."""

TINY_VIT = dict(embed_dim=16, depth=1, num_heads=2, mlp_dim=16, dropout=0.0)
TINY_EFF = dict(width_coefficient=0.25, depth_coefficient=0.25)
TINY_MNV3 = dict(alpha=0.25, minimalistic=True)
TINY_PINN = dict(embed_dim=16, num_heads=2, key_dim=8, mlp_dim=8, decoder_features=8)

TINY = {
    "resnet18": dict(width=4, stage_blocks=(1, 1, 1, 1)),
    "resnet50": dict(width=4, stage_blocks=(1, 1, 1, 1)),
    "vit": TINY_VIT,
    "vitsd": TINY_VIT,
    "cait": dict(TINY_VIT, class_depth=1),
    "cvt": dict(embed_dims=(8, 16), depths=(1, 1), num_heads=(1, 2)),
    "efficientnet_b0": TINY_EFF,
    "efficientnetv2_s": TINY_EFF,
    "mobilenetv3_small": TINY_MNV3,
    "mobilenetv3_large": TINY_MNV3,
    "lensformer": dict(embed_dim=16, num_heads=2, key_dim=8, mlp_dim=8),
    "lenspinn_small": dict(TINY_PINN, decoder_options=TINY_MNV3),
    "lenspinn_large": dict(TINY_PINN, decoder_options=TINY_EFF),
    # One block per EfficientNetV2 stage (depth 0.1): its graph is the slowest to trace.
    "d4lenspinn": dict(unet_fields=(2, 2, 2), stem_kernel=3,
                       head_options=dict(width_coefficient=0.25, depth_coefficient=0.1)),
    "vanilla_lenspinn": dict(unet_fields=(2, 2, 2), stem_kernel=3,
                             head_options=dict(width_coefficient=0.25, depth_coefficient=0.1)),
}
