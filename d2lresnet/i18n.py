"""One switch for the language of everything the module prints or draws: English or 中文.

    from d2lresnet import i18n
    i18n.set_language("zh")                        # first cell of every zh notebook
    i18n.tr("conv", k=3, c=64)                     # '3×3卷积层，64'; label() for figure text

``MESSAGES[language][key]`` is a ``str.format`` template; add a key to both languages (a test
checks that they have the same keys and the same {fields}). The module and the CLI start in
English. Terms follow D2L zh (残差块, 批量规范化, 汇聚层, 步幅, ...), with Chinese punctuation
in Chinese text.

Figures need a font with Chinese glyphs. ``set_language("zh")`` puts the first CJK font it finds
first in matplotlib's ``font.sans-serif``; where there is none, ``label()`` (text drawn in a
figure) stays English and one line says which font to install, while ``tr()`` (printed text,
which the browser or terminal draws with its own fonts) stays Chinese.
"""
import os

LANGUAGES = ("en", "zh")

MESSAGES = {
    "en": {
        # D2L's terms, the glossary of the notes
        "residual_block": "residual block", "residual_mapping": "residual mapping",
        "identity_mapping": "identity mapping", "nested_classes": "nested function classes",
        "non_nested_classes": "non-nested function classes",
        "batch_norm": "batch normalization",
        "pooling": "pooling layer", "stride": "stride", "padding": "padding",
        "channels": "channels", "degradation": "degradation",
        "global_avg_pool_layer": "global average pooling layer",
        "conv_layer": "convolutional layer",
        "fc_layer": "fully connected layer", "max_pool_layer": "max-pooling layer",
        # layer labels in the diagrams, built from a module's attributes
        "conv": "{k}×{k} conv, {c}", "with_stride": "{label}, stride {s}",
        "stride_n": "stride {s}",
        "max_pool": "{k}×{k} max-pool", "global_avg_pool": "global avg-pool",
        "flatten": "flatten", "fc": "FC, {n}",
        "bn_layer": "batch norm", "relu": "ReLU",
        "bottleneck_block": "bottleneck block",
        "preact_block": "pre-activation block",
        "weight_layer": "weight layer", "activation": "activation function",
        "regular_block": "regular block", "input": "input", "output_shape": "output shape",
        "without_1x1": "without 1×1 conv", "with_1x1": "with 1×1 conv on the shortcut",
        "shortcut_1x1": "1×1 conv", "resnet_title": "ResNet-{layers}, input {shape}",
        "cjk_font_missing": "No Chinese font found for matplotlib, so figures use English "
                            "labels; install one (Debian/Ubuntu: sudo apt-get install "
                            "fonts-noto-cjk) and restart the kernel.",
    },
    "zh": {
        "residual_block": "残差块", "residual_mapping": "残差映射",
        "identity_mapping": "恒等映射", "nested_classes": "嵌套函数类",
        "non_nested_classes": "非嵌套函数类", "batch_norm": "批量规范化",
        "pooling": "汇聚层", "stride": "步幅", "padding": "填充",
        "channels": "通道", "degradation": "退化",
        "global_avg_pool_layer": "全局平均汇聚层", "conv_layer": "卷积层",
        "fc_layer": "全连接层", "max_pool_layer": "最大汇聚层",
        "conv": "{k}×{k}卷积层，{c}", "with_stride": "{label}，步幅{s}",
        "stride_n": "步幅{s}",
        "max_pool": "{k}×{k}最大汇聚层", "global_avg_pool": "全局平均汇聚层",
        "flatten": "展平", "fc": "全连接层，{n}",
        "bn_layer": "批量规范化层", "relu": "ReLU",
        "bottleneck_block": "瓶颈残差块",
        "preact_block": "预激活残差块",
        "weight_layer": "加权层", "activation": "激活函数",
        "regular_block": "正常块", "input": "输入", "output_shape": "输出形状",
        "without_1x1": "不含1×1卷积层", "with_1x1": "含1×1卷积层",
        "shortcut_1x1": "1×1卷积层", "resnet_title": "ResNet-{layers}，输入{shape}",
        "cjk_font_missing": "matplotlib找不到中文字体，图中文字改用英文。请安装字体"
                            "（Debian/Ubuntu：sudo apt-get install fonts-noto-cjk），"
                            "然后重启内核。",
    },
}

# D2L's terms, for a zh/en glossary: [(MESSAGES["zh"][k], MESSAGES["en"][k]) for k in GLOSSARY]
GLOSSARY = ("residual_block", "residual_mapping", "identity_mapping", "nested_classes",
            "batch_norm", "pooling", "stride", "padding", "channels", "degradation",
            "global_avg_pool_layer", "conv_layer", "fc_layer", "max_pool_layer")

# Families matplotlib may know, best first; fonts-noto-cjk on Linux, the OS's own elsewhere.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "PingFang SC",
             "Hiragino Sans GB", "Microsoft YaHei", "SimHei", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Noto Sans CJK JP", "Source Han Sans", "Arial Unicode MS")

_language = "en"
_figure_font = None   # the CJK family in use, or None when figures must stay English
_saved_fonts = None   # matplotlib's font settings before zh, restored by set_language("en")
_warned = False


def get_language():
    return _language


def set_language(language):
    """``"zh"`` or ``"en"`` for everything printed and drawn from now on."""
    global _language, _figure_font, _warned
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    _language = language
    if language == "en":
        _restore_fonts()
        return
    _figure_font = find_cjk_font()
    if _figure_font is not None:
        _use_font(_figure_font)
    elif not _warned:
        # In English: a machine without a CJK font may draw Chinese as boxes anywhere.
        print(MESSAGES["en"]["cjk_font_missing"])
        _warned = True


def _use_font(name):
    global _saved_fonts
    import matplotlib as mpl
    if _saved_fonts is None:
        _saved_fonts = {key: mpl.rcParams[key] for key in ("font.family", "font.sans-serif")}
    # matplotlib falls back glyph by glyph along this list, so ×, ⊕ and − still come from
    # DejaVu Sans when the CJK font lacks them.
    mpl.rcParams["font.sans-serif"] = [name] + [
        other for other in _saved_fonts["font.sans-serif"] if other != name]
    mpl.rcParams["font.family"] = "sans-serif"


def _restore_fonts():
    global _saved_fonts
    if _saved_fonts is not None:
        import matplotlib as mpl
        mpl.rcParams.update(_saved_fonts)
        _saved_fonts = None


def find_cjk_font():
    """The first of CJK_FONTS that matplotlib can use, or None."""
    from matplotlib import font_manager
    for attempt in range(2):
        known = {font.name for font in font_manager.fontManager.ttflist}
        found = next((name for name in CJK_FONTS if name in known), None)
        if found or attempt:
            return found
        # matplotlib caches the font list; a font installed after the cache was built is
        # missing from it until registered by hand.
        for path in font_manager.findSystemFonts():
            name = os.path.basename(path).lower()
            if any(part in name for part in ("cjk", "sourcehan", "wqy", "msyh", "simhei",
                                             "pingfang")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass


def tr(key, **fields):
    """The message ``key`` in the current language, with ``fields`` filled in."""
    return MESSAGES[_language][key].format(**fields)


def label(key, **fields):
    """Text drawn inside a matplotlib figure: Chinese only when a CJK font was found."""
    language = "zh" if _language == "zh" and _figure_font else "en"
    return MESSAGES[language][key].format(**fields)
