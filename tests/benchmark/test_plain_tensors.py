"""MetaTensor inputs train through plain tensors: the same weights and predictions, without the metadata cost."""
import torch
from monai.data import MetaTensor

from medgan.benchmark.classifier import ClassifierConfig, predict_proba, train_classifier
from medgan.training import TrainConfig
from medgan.training.trainer import Trainer
from medgan.utils.tensors import plain_tensor


def _images(n: int, size: int = 16) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_plain_tensor_drops_the_subclass_and_shares_storage():
    meta = MetaTensor(_images(4), meta={"filename_or_obj": "x.nii.gz"})
    plain = plain_tensor(meta)
    assert type(plain) is torch.Tensor and plain.data_ptr() == meta.data_ptr()
    assert torch.equal(plain, meta.as_tensor())
    x = _images(2)
    assert plain_tensor(x) is x


def test_classifier_trained_on_metatensors_equals_one_trained_on_plain_tensors():
    x, y = _images(24), torch.arange(24) % 2
    cfg = ClassifierConfig(channels=(4, 4, 8, 8), epochs=1, min_steps=6, batch_size=8)
    runs = [train_classifier(images, y, 24, images[:8], y[:8], 2, cfg, seed=3)
            for images in (MetaTensor(x), x)]
    (meta_model, meta_info), (plain_model, plain_info) = runs
    assert meta_info["best_val_auc"] == plain_info["best_val_auc"]
    for a, b in zip(meta_model.state_dict().values(), plain_model.state_dict().values()):
        assert torch.equal(a, b)
    out = predict_proba(meta_model, MetaTensor(x))
    assert out.shape == (24, 2) and (out == predict_proba(plain_model, x)).all()


def test_gan_trainer_holds_its_images_as_a_plain_tensor():
    cfg = TrainConfig(model="fastgan", image_size=16, steps=1, ngf=4, ndf=4, batch_size=4)
    trainer = Trainer(cfg, MetaTensor(_images(8)), torch.arange(8) % 2, 2)
    assert type(trainer.images) is torch.Tensor
    real, _ = trainer.sample_batch()
    assert type(real) is torch.Tensor
