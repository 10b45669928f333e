"""The engine: data, models, training, evaluation, checkpoints, preprocessing.

Only torch, torchvision, numpy and pillow are used here; never Qt (an import-linter
contract and tests/core/test_layering.py enforce it).
"""
