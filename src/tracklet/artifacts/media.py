"""Figures and images as files: what ``log_figure`` and ``log_image`` write.

numpy, Pillow, matplotlib and plotly are imported only when an image or figure is logged.
"""

from __future__ import annotations

import warnings
from typing import Any

COMPRESSED_IMAGE_SIZE = 256  # the longer side of the thumbnails MLflow's UI shows


def to_pil_image(image: Any) -> Any:
    """A PIL image from a PIL image or a numpy array (H x W, H x W x 1|3|4), as MLflow:
    bool and float [0, 1] arrays are scaled to 0-255, integers must lie in [0, 255]."""
    import numpy as np
    from PIL import Image

    if isinstance(image, Image.Image):
        return image
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"Unsupported image object type: {type(image)}. `image` must be one of "
            "numpy.ndarray and PIL.Image.Image."
        )
    if image.dtype.kind not in "biuf":
        raise TypeError(f"Invalid array data type: {image.dtype}. Must be bool, int or float.")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"Invalid array shape: {image.shape}. Must be HxW, HxWx1, 3 or 4.")
    return Image.fromarray(_as_uint8(image))


def _as_uint8(x: Any) -> Any:
    import numpy as np

    is_int = np.issubdtype(x.dtype, np.integer)
    high = 255 if is_int else 1
    if x.size and (x.min() < 0 or x.max() > high):
        if is_int:
            raise ValueError(
                "Integer pixel values out of acceptable range [0, 255]. Found minimum value "
                f"{x.min()} and maximum value {x.max()}."
            )
        warnings.warn(
            f"Float pixel values out of acceptable range [0.0, 1.0]. Found minimum value "
            f"{x.min()} and maximum value {x.max()}. Rescaling values to [0.0, 1.0] with "
            "min/max scaler.",
            stacklevel=4,
        )
        x = (x - x.min()) / (x.max() - x.min())
    if not is_int:
        x = x * 255
    return x.astype(np.uint8)


def thumbnail(image: Any, max_size: int = COMPRESSED_IMAGE_SIZE) -> Any:
    """``image`` scaled so its longer side is ``max_size``, keeping the aspect ratio."""
    width, height = image.size
    if width > height:
        size = (max_size, int(height * max_size / width))
    else:
        size = (int(width * max_size / height), max_size)
    return image.resize(size)


def save_figure(figure: Any, path: str, save_kwargs: dict[str, Any] | None = None) -> None:
    """Write a matplotlib or plotly figure to ``path`` (format from the suffix)."""
    kwargs = save_kwargs or {}
    module = type(figure).__module__
    if module.startswith("matplotlib"):
        figure.savefig(path, **kwargs)
    elif module.startswith("plotly"):
        if path.endswith(".html"):
            figure.write_html(path, include_plotlyjs="cdn", auto_open=False, **kwargs)
        else:
            figure.write_image(path, **kwargs)
    else:
        raise TypeError(f"Unsupported figure object type: '{type(figure)}'")
