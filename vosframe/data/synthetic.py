"""Deterministic synthetic clips: textured objects moved over real photos, exact masks.

Recipe (after STM's pre-training on deformed still images, Oh et al., ICCV 2019): 1-3
objects (procedural shapes or real cut-outs, textured with scikit-image photo crops) are
moved over a photo background with an accumulated per-frame affine (translation towards
way-points, rotation, scale, shear) and a slowly varying elastic deformation; they are
composited back to front, so they occlude each other; the background has its own slow affine
(camera motion). Each object pixel is drawn with its warped mask as a hard alpha, so
``masks[t] == k`` exactly where object ``k``'s texture is visible.

Motion modes per frame (``SyntheticClip.motion``):

* ``normal``: the motion above;
* ``static``: near-identity transforms, frozen camera and deformation: every visible object
  keeps an IoU of at least :data:`STATIC_MIN_IOU` with its previous-frame mask;
* ``jump``: a cut: objects teleport further than their own extent and the camera jumps, so
  every object's IoU with its previous-frame mask is at most :data:`JUMP_MAX_IOU`
  (0 by construction unless the frame is too small for the objects).

Everything is drawn from ``numpy.random.default_rng(seed)``: a seed gives the same clip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import cv2
import numpy as np

from vosframe.core.errors import InputError
from vosframe.data.augment import affine_matrix
from vosframe.data.masks import davis_palette
from vosframe.data.synthetic_clip import (
    DEFAULT_SCHEDULE,
    JUMP_MAX_IOU,
    MOTION_MODES,
    STATIC_MIN_IOU,
    SyntheticClip,
    make_schedule,
)
from vosframe.data.textures import (
    cutout_sprite,
    random_photo,
    random_shape,
    random_texture,
)

__all__ = [
    "DEFAULT_SCHEDULE",
    "JUMP_MAX_IOU",
    "MOTION_MODES",
    "STATIC_MIN_IOU",
    "SyntheticClip",
    "SyntheticClipGenerator",
    "default_clip",
    "generate_clip",
    "make_schedule",
]


@attrs.define
class _Object:
    """Mutable per-object state, local to one :meth:`generate` call."""

    rgb: np.ndarray
    mask: np.ndarray
    extent: float
    x: float
    y: float
    angle: float = 0.0
    scale: float = 1.0
    shear: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    spin: float = 0.0
    target: tuple[float, float] = (0.0, 0.0)
    field_a: np.ndarray | None = None
    field_b: np.ndarray | None = None
    alpha: float = 0.0

    @property
    def radius(self) -> float:
        """Bound on the distance of any mask pixel from the centre (scale, shear, elastic)."""
        return self.scale * self.extent * 1.1


@attrs.frozen
class SyntheticClipGenerator:
    """Configuration of synthetic clips; :meth:`generate` makes one clip from a seed.

    Attributes:
        height, width: Frame size.
        num_frames: Clip length ``T``.
        min_objects, max_objects: Range of the object count.
        object_size: Sprite side range, as a fraction of ``min(height, width)``.
        speed: Per-frame translation, as a fraction of ``min(height, width)``.
        rotation: Per-frame rotation step (degrees).
        scale_step: Per-frame relative scale step.
        shear: Per-frame shear step (degrees); the accumulated shear stays within +-10.
        elastic: Elastic displacement amplitude, as a fraction of the sprite side.
        camera: Per-frame camera translation, as a fraction of the frame size.
        motion: ``mixed``, ``normal``, ``static`` or ``jump`` (see :func:`make_schedule`).
        schedule: Explicit per-frame modes (overrides ``motion``; starts with ``start``).
        static_factor: Motion scale on ``static`` frames.
        textures: ``photo`` (scikit-image crops) or ``flat`` (one palette colour per
            object, for exact-alignment tests).
        background: ``photo`` or ``flat`` (black).
        cutout_prob: Chance an object is a real cut-out when cut-outs are given.
    """

    height: int = 240
    width: int = 432
    num_frames: int = 24
    min_objects: int = 1
    max_objects: int = 3
    object_size: tuple[float, float] = (0.25, 0.4)
    speed: float = 0.012
    rotation: float = 1.5
    scale_step: float = 0.01
    shear: float = 1.0
    elastic: float = 0.04
    camera: float = 0.004
    motion: str = "mixed"
    schedule: tuple[str, ...] | None = attrs.field(
        default=None, converter=lambda s: None if s is None else tuple(s)
    )
    static_factor: float = 0.02
    textures: str = "photo"
    background: str = "photo"
    cutout_prob: float = 0.5

    def __attrs_post_init__(self) -> None:
        if self.height < 32 or self.width < 32 or self.num_frames < 1:
            raise InputError("synthetic clips need height, width >= 32 and num_frames >= 1")
        if not 1 <= self.min_objects <= self.max_objects <= 20:
            raise InputError("need 1 <= min_objects <= max_objects <= 20")
        if self.schedule is not None and len(self.schedule) != self.num_frames:
            raise InputError(
                f"schedule has {len(self.schedule)} modes for {self.num_frames} frames"
            )
        if self.textures not in ("photo", "flat") or self.background not in ("photo", "flat"):
            raise InputError("textures and background must be 'photo' or 'flat'")

    def generate(
        self,
        seed: int,
        cutouts: Sequence[tuple[np.ndarray, np.ndarray]] = (),
        with_layers: bool = False,
    ) -> SyntheticClip:
        """Generate one clip.

        Args:
            seed: Random seed; the same seed (and configuration) gives the same clip.
            cutouts: Optional real ``(rgb, mask)`` object cut-outs (training data only).
            with_layers: Also return the backgrounds, object layers and unoccluded masks.

        Returns:
            The clip.
        """
        rng = np.random.default_rng(seed)
        modes = self.schedule or make_schedule(rng, self.num_frames, self.motion)
        bg_name, bg_photo = self._background(rng)
        count = int(rng.integers(self.min_objects, self.max_objects + 1))
        objects = [self._new_object(rng, k, cutouts, bg_name) for k in range(count)]
        camera = np.eye(3)
        base = self._camera_base(bg_photo)
        for _attempt in range(30):  # place objects so that each is well visible in frame 0
            for obj in objects:
                obj.x, obj.y = self._random_position(rng, obj.radius)
                obj.target = self._random_position(rng, obj.radius)
            sprites = [self._render_sprite(o) for o in objects]
            _, _, vis, _ = self._composite(bg_photo, base @ camera, objects, sprites, False)
            if vis.min() >= 0.6:
                break
        frames, masks, visible, extra = [], [], [], ([], [], [])
        for t, mode in enumerate(modes):
            if t > 0:
                camera = self._step_camera(rng, camera, mode)
                for obj in objects:
                    self._step_object(rng, obj, objects, mode)
            sprites = [self._render_sprite(o) for o in objects]
            frame, labels, vis, layers = self._composite(
                bg_photo, base @ camera, objects, sprites, with_layers
            )
            frames.append(frame)
            masks.append(labels)
            visible.append(vis)
            if with_layers:
                for store, item in zip(extra, layers):
                    store.append(item)
        return SyntheticClip(
            np.stack(frames),
            np.stack(masks),
            tuple(modes),
            np.stack(visible),
            int(seed),
            *(np.stack(s) if with_layers else None for s in extra),
        )

    # ----------------------------------------------------------------- construction

    def _background(self, rng: np.random.Generator) -> tuple[str, np.ndarray]:
        if self.background == "flat":
            return "", np.zeros((self.height * 2, self.width * 2, 3), np.uint8)
        return random_photo(rng)

    def _camera_base(self, photo: np.ndarray) -> np.ndarray:
        """Map the photo's centre to the frame's centre, zoomed so it covers the frame x1.3."""
        ph, pw = photo.shape[:2]
        zoom = 1.3 * max(self.height / ph, self.width / pw)
        return np.array(
            [
                [zoom, 0, self.width / 2 - zoom * pw / 2],
                [0, zoom, self.height / 2 - zoom * ph / 2],
                [0, 0, 1.0],
            ]
        )

    def _new_object(
        self,
        rng: np.random.Generator,
        k: int,
        cutouts: Sequence[tuple[np.ndarray, np.ndarray]],
        bg_name: str,
    ) -> _Object:
        side = int(min(self.height, self.width) * rng.uniform(*self.object_size))
        side = max(side, 8)
        if cutouts and rng.random() < self.cutout_prob:
            rgb, mask = cutout_sprite(cutouts[int(rng.integers(len(cutouts)))], side)
        else:
            mask = random_shape(rng, side)
            if self.textures == "flat":
                rgb = np.empty((side, side, 3), np.uint8)
                rgb[:] = davis_palette()[k + 1]
            else:
                rgb = random_texture(rng, side, exclude=(bg_name,))
        ys, xs = np.nonzero(mask)
        c = (side - 1) / 2.0
        extent = float(np.sqrt(((ys - c) ** 2 + (xs - c) ** 2).max())) + 1.0
        obj = _Object(rgb, mask, extent + self.elastic * side, 0.0, 0.0)
        obj.field_a = self._elastic_field(rng, side)
        obj.field_b = self._elastic_field(rng, side)
        return obj

    def _elastic_field(self, rng: np.random.Generator, side: int) -> np.ndarray:
        amp = self.elastic * side
        coarse = rng.normal(scale=amp / 2, size=(4, 4, 2)).astype(np.float32)
        field = cv2.resize(coarse, (side, side), interpolation=cv2.INTER_CUBIC)
        return np.clip(field, -amp, amp)

    def _random_position(self, rng: np.random.Generator, radius: float) -> tuple[float, float]:
        h, w = self.height, self.width
        mx, my = min(radius, 0.45 * w), min(radius, 0.45 * h)
        return float(rng.uniform(mx, w - mx)), float(rng.uniform(my, h - my))

    # ----------------------------------------------------------------- motion

    def _step_camera(self, rng: np.random.Generator, camera: np.ndarray, mode: str) -> np.ndarray:
        h, w = self.height, self.width
        if mode == "static":
            return camera
        if mode == "jump":
            dx = rng.choice([-1, 1]) * rng.uniform(0.1, 0.15) * w
            dy = rng.choice([-1, 1]) * rng.uniform(0.05, 0.1) * h
            step = affine_matrix((w / 2, h / 2), rng.uniform(-5, 5), 1.0, 0.0, (dx, dy))
            return self._clamp_camera(step @ camera)
        step = affine_matrix(
            (w / 2, h / 2),
            rng.normal(scale=0.2),
            1.0 + rng.normal(scale=0.002),
            0.0,
            (rng.normal(scale=self.camera * w), rng.normal(scale=self.camera * h)),
        )
        return self._clamp_camera(step @ camera)

    def _clamp_camera(self, camera: np.ndarray) -> np.ndarray:
        """Keep the accumulated camera shift small enough for the photo to cover the frame."""
        camera = camera.copy()
        camera[0, 2] = float(np.clip(camera[0, 2], -0.12 * self.width, 0.12 * self.width))
        camera[1, 2] = float(np.clip(camera[1, 2], -0.12 * self.height, 0.12 * self.height))
        return camera

    def _step_object(
        self, rng: np.random.Generator, obj: _Object, objects: list[_Object], mode: str
    ) -> None:
        if mode == "jump":
            self._jump(rng, obj)
            return
        f = self.static_factor if mode == "static" else 1.0
        unit = min(self.height, self.width)
        tx, ty = obj.target
        dist = math.hypot(tx - obj.x, ty - obj.y)
        if mode == "normal" and dist < self.speed * unit * 2:
            other = objects[int(rng.integers(len(objects)))]
            # half the time head for another object: paths cross and objects occlude
            obj.target = (
                (other.x, other.y)
                if other is not obj and rng.random() < 0.5
                else self._random_position(rng, obj.radius)
            )
            tx, ty = obj.target
            dist = math.hypot(tx - obj.x, ty - obj.y)
        speed = self.speed * unit * rng.uniform(0.6, 1.4)
        if dist > 0:
            obj.vx = 0.7 * obj.vx + 0.3 * speed * (tx - obj.x) / dist
            obj.vy = 0.7 * obj.vy + 0.3 * speed * (ty - obj.y) / dist
        obj.x = float(np.clip(obj.x + f * obj.vx, 0, self.width))
        obj.y = float(np.clip(obj.y + f * obj.vy, 0, self.height))
        obj.spin = 0.8 * obj.spin + 0.2 * rng.normal(scale=self.rotation)
        obj.angle += f * obj.spin
        obj.scale = float(
            np.clip(obj.scale * (1 + f * rng.normal(scale=self.scale_step)), 0.8, 1.25)
        )
        obj.shear = float(np.clip(obj.shear + f * rng.normal(scale=self.shear), -10, 10))
        if mode == "normal":
            obj.alpha += 0.15
            if obj.alpha >= 1.0:
                obj.alpha -= 1.0
                obj.field_a, obj.field_b = obj.field_b, self._elastic_field(rng, len(obj.mask))

    def _jump(self, rng: np.random.Generator, obj: _Object) -> None:
        """Teleport further than twice the object's extent (so old and new masks are disjoint)."""
        best, best_d = (obj.x, obj.y), -1.0
        for _ in range(64):
            x, y = self._random_position(rng, 0.1 * min(self.height, self.width))
            d = math.hypot(x - obj.x, y - obj.y)
            if d > best_d:
                best, best_d = (x, y), d
            if d > 2 * obj.radius + 2:
                break
        obj.x, obj.y = best
        obj.target = self._random_position(rng, obj.radius)
        obj.vx = obj.vy = 0.0
        obj.angle += rng.uniform(-30, 30)

    # ----------------------------------------------------------------- rendering

    def _render_sprite(self, obj: _Object) -> tuple[np.ndarray, np.ndarray]:
        """Elastically deformed sprite (texture, mask) of one object."""
        side = len(obj.mask)
        field = (1.0 - obj.alpha) * obj.field_a + obj.alpha * obj.field_b
        grid = np.arange(side, dtype=np.float32)
        map_x = grid[None, :] + field[..., 0]
        map_y = grid[:, None] + field[..., 1]
        rgb = cv2.remap(obj.rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mask = cv2.remap(obj.mask.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST, borderValue=0)
        return rgb, mask

    def _object_matrix(self, obj: _Object) -> np.ndarray:
        c = (len(obj.mask) - 1) / 2.0
        to_origin = np.array([[1, 0, obj.x - c], [0, 1, obj.y - c], [0, 0, 1.0]])
        pose = affine_matrix((obj.x, obj.y), obj.angle, obj.scale, obj.shear)
        return (pose @ to_origin)[:2]

    def _composite(
        self,
        photo: np.ndarray,
        camera: np.ndarray,
        objects: list[_Object],
        sprites: list[tuple[np.ndarray, np.ndarray]],
        with_layers: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
        size = (self.width, self.height)
        frame = cv2.warpAffine(
            photo, camera[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        )
        background = frame.copy() if with_layers else None
        labels = np.zeros((self.height, self.width), np.uint8)
        full_areas, layers, fulls = [], [], []
        for k, (obj, (rgb, mask)) in enumerate(zip(objects, sprites)):  # back to front
            m = self._object_matrix(obj)
            warped_mask = cv2.warpAffine(mask, m, size, flags=cv2.INTER_NEAREST, borderValue=0) > 0
            warped_rgb = cv2.warpAffine(
                rgb, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            frame[warped_mask] = warped_rgb[warped_mask]
            labels[warped_mask] = k + 1
            full_areas.append(np.count_nonzero(warped_mask))
            if with_layers:
                layers.append(warped_rgb)
                fulls.append(warped_mask)
        visible = np.array(
            [
                np.count_nonzero(labels == k + 1) / area if area else 0.0
                for k, area in enumerate(full_areas)
            ]
        )
        extra = (background, np.stack(layers), np.stack(fulls)) if with_layers else ()
        return frame, labels, visible, extra


def generate_clip(seed: int = 0, **config: object) -> SyntheticClip:
    """Generate one clip: ``SyntheticClipGenerator(**config).generate(seed)``."""
    return SyntheticClipGenerator(**config).generate(seed)  # type: ignore[arg-type]


def default_clip() -> SyntheticClip:
    """The project's own small demo/test clip (deterministic).

    40 frames of 240 x 432 with 2 objects over a photo background; frames 9-16 and 26-33
    are near-static and frames 17 and 34 are jumps (see :data:`DEFAULT_SCHEDULE`).
    """
    generator = SyntheticClipGenerator(
        height=240,
        width=432,
        num_frames=len(DEFAULT_SCHEDULE),
        min_objects=2,
        max_objects=2,
        schedule=DEFAULT_SCHEDULE,
    )
    return generator.generate(seed=20240601)
