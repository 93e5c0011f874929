# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6.3 ResNet模型
#
# 我们像笔记那样逐个模块地搭建ResNet-18，检查一张224×224的单通道图像经过每个模块后的形状，最后画出整个架构。
#
# ## b1：第一个模块
#
# 笔记中写道：“前两层跟GoogLeNet中的一样：在输出通道数为64、步幅为2的7×7卷积层后，接步幅为2的3×3的最大汇聚层。不同之处在于ResNet每个卷积层后增加了批量规范化层。”步幅为2的层都把高和宽减半，所以224先变成112，再变成56。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %%
import inspect

import torch
from torch import nn

from d2lresnet import count_layers, count_parameters, resnet18, resnet_block, stem

torch.manual_seed(0)
X = torch.rand(1, 1, 224, 224)

b1 = stem(in_channels=1)
Y1 = b1(X)
print(b1)
assert Y1.shape == (1, 64, 56, 56)
Y1.shape

# %% [markdown]
# ### 与GoogLeNet的第一个模块对照
#
# 下面是D2L中GoogLeNet的第一个模块（GoogLeNet一节中的`b1`）。把它写出来，就可以和ResNet的`b1`并排比较：

# %%
googlenet_b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(),
                             nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
googlenet_b1

# %% [markdown]
# 下面比较的内容都直接从模块中读出，而不是手工写上的：两个模块中各层的类型，以及决定卷积层和汇聚层的超参数（输入通道数、输出通道数、卷积核大小、步幅、填充）。去掉ResNet的`b1`中的批量规范化层，剩下的就与GoogLeNet的逐层相同；两者都把图像变成64个通道的56×56输出。

# %%
def hyperparameters(layer):
    names = ("in_channels", "out_channels", "kernel_size", "stride", "padding")
    return type(layer).__name__, {name: getattr(layer, name) for name in names
                                  if hasattr(layer, name)}


def without_batchnorm(stage):
    return [layer for layer in stage if not isinstance(layer, nn.BatchNorm2d)]


resnet_stem = [hyperparameters(layer) for layer in b1]
googlenet_stem = [hyperparameters(layer) for layer in googlenet_b1]
for row in resnet_stem:
    print(row)

assert [hyperparameters(layer) for layer in without_batchnorm(b1)] == googlenet_stem
assert isinstance(b1[1], nn.BatchNorm2d) and b1[1].num_features == b1[0].out_channels
assert googlenet_b1(X).shape == Y1.shape == (1, 64, 56, 56)

# %% [markdown]
# ## b2到b5：由残差块组成的4个模块
#
# 笔记中写道：“GoogLeNet在后面接了4个由Inception块组成的模块。ResNet则使用4个由残差块组成的模块，每个模块使用若干个同样输出通道数的残差块。”第一个模块的通道数同输入通道数一致；由于之前已经使用了步幅为2的最大汇聚层，所以无须减小高和宽。之后的每个模块**在第一个残差块里**将上一个模块的通道数翻倍，并将高和宽减半（步幅为2，跨层数据通路上加1×1卷积层）；其余的残差块保持形状不变。

# %%
print(inspect.getsource(resnet_block))

# %% [markdown]
# 接着在ResNet加入所有残差块，这里每个模块使用2个残差块，一次搭一个模块：

# %%
b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
Y2 = b2(Y1)
assert Y2.shape == (1, 64, 56, 56)  # first_block: no stride, no 1x1 conv
Y2.shape

# %%
b3 = nn.Sequential(*resnet_block(64, 128, 2))
Y3 = b3(Y2)
assert Y3.shape == (1, 128, 28, 28)
Y3.shape

# %%
b4 = nn.Sequential(*resnet_block(128, 256, 2))
Y4 = b4(Y3)
assert Y4.shape == (1, 256, 14, 14)
Y4.shape

# %%
b5 = nn.Sequential(*resnet_block(256, 512, 2))
Y5 = b5(Y4)
assert Y5.shape == (1, 512, 7, 7)
Y5.shape

# %% [markdown]
# ## 完整的网络
#
# 最后，与GoogLeNet一样，在ResNet中加入全局平均汇聚层，以及全连接层输出：全局平均汇聚层把512个通道各变成一个数，全连接层再把它们映射到Fashion-MNIST的10个类别。下面是输出形状和参数数量：

# %%
net = nn.Sequential(b1, b2, b3, b4, b5,
                    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10))
assert net(X).shape == (1, 10)
assert count_parameters(net) == count_parameters(resnet18()) == 11_178_378
net(X).shape, count_parameters(net)

# %% [markdown]
# 参数数量相同并非巧合：手工搭建的`net`与模块中的`resnet18()`参数完全相同，逐个张量一致，顺序也一致（下面输出的是参数张量的个数）。

# %%
shapes_by_hand = [p.shape for p in net.parameters()]
shapes_in_module = [p.shape for p in resnet18().parameters()]
assert shapes_by_hand == shapes_in_module
len(shapes_by_hand)

# %% [markdown]
# 这就是笔记中ResNet-18的架构图，直接由`net`画出。每个框是一个卷积层连同其后的批量规范化层（和ReLU），或者一个没有参数的层（最大汇聚层、全局平均汇聚层、展平层）；第一个模块和各残差块按同样的粒度来画。每个残差块的两个$3\times 3$卷积层框在一起，上方的折线是它的跨层数据通路，含1×1卷积层的画成虚线。带编号的框就是名称中计入的层：第一个模块的卷积层、每个残差块的2个卷积层，以及全连接层。每行末尾的箭头上标着该部分的输出形状。

# %%
from d2lresnet.drawing.diagrams import drawn
from d2lresnet.drawing.resnet_diagram import draw_resnet

figure = draw_resnet(net, (1, 1, 224, 224))
layers = [layer for part in net for layer in (part if isinstance(part, nn.Sequential) else [part])]
assert [module for box in drawn(figure) for module in box.modules] == layers
assert [box.shape for box in drawn(figure) if box.shape][4] == tuple(Y5.shape)
blocks = [block for stage in (b2, b3, b4, b5) for block in stage]
block_boxes = [box for box in drawn(figure) if box.modules and box.modules[0] in blocks]
assert len(block_boxes) == len(blocks) and all(len(box.numbers) == 2 for box in block_boxes)
numbered = [n for box in drawn(figure) for n in box.numbers]
assert numbered == list(range(1, 19)) and 1 + 2 * len(blocks) + 1 == 18  # stem, blocks, FC
figure

# %% [markdown]
# ## 参数和计算量在哪里
#
# 每个模块一行，都从网络本身读出：输入通道数 → 输出通道数、可训练参数的数量、占整个网络参数的比例，以及处理一张224×224图像所需的GFLOP（十亿次浮点运算，由`torch.utils.flop_counter`统计）。

# %%
from d2lresnet import count_flops

stages = {"b2": (b2, Y1.shape), "b3": (b3, Y2.shape), "b4": (b4, Y3.shape), "b5": (b5, Y4.shape)}
params = {name: count_parameters(stage) for name, (stage, _) in stages.items()}
flops = {name: count_flops(stage, shape) for name, (stage, shape) in stages.items()}
total = count_parameters(net)
for name, (stage, _) in stages.items():
    print(f"{name}  {stage[0].conv1.in_channels:>3} → {stage[-1].conv2.out_channels:<3}"
          f"{params[name]:>12,} {params[name] / total:6.1%} {flops[name] / 1e9:8.3f} GFLOP")

# %% [markdown]
# 从b3开始，每个模块的参数几乎正好是前一个模块的4倍：从$c$个通道到$c$个通道的3×3卷积层有$9c^2$个权重，而$c$每个模块翻一倍。（b3只有b2的约3.5倍，因为它的第一个卷积层只输入64个通道。）因此，ResNet-18四分之三的权重都在b5中。
#
# 计算量却分布得很均匀：b3、b4和b5的浮点运算次数完全相同，因为每个模块把高和宽减半（像素变为四分之一），同时把通道数翻倍（每个像素的计算量变为4倍）。b2比它们各多八分之一，因为它的4个卷积层都在56×56上、以全部通道计算；笔记本04会推导其中的原因。

# %%
assert round(params["b5"] / total, 2) == 0.75
assert all(3.9 < params[later] / params[earlier] < 4
           for earlier, later in [("b3", "b4"), ("b4", "b5")])
assert 3.5 < params["b3"] / params["b2"] < 3.6
assert flops["b3"] == flops["b4"] == flops["b5"]
assert 8 * flops["b2"] == 9 * flops["b3"]

# %% [markdown]
# ## 为什么是“18”层？
#
# 笔记中写道：“每个模块有4个卷积层（不包括恒等映射的1×1卷积层）。加上第一个7×7卷积层和最后一个全连接层，共有18层。因此，这种模型通常被称为ResNet-18。”即$1 + 4 \times 4 + 1 = 18$。（跨层数据通路上有1×1卷积层时，它就不再是恒等映射，而是一个可学习的投影；只有不含1×1卷积层的残差块才把$\mathbf{x}$原样传过去。）下面对`net`的每一部分（b1、b2到b5、汇聚层、展平层、全连接层）逐一计数：

# %%
per_layer = [count_layers(layer) for layer in net]
assert per_layer == [1, 4, 4, 4, 4, 0, 0, 1]
assert count_layers(net) == 18
per_layer

# %% [markdown]
# 跨层数据通路上的3个1×1卷积层（在b3、b4、b5的第一个残差块中）不计入层数，并不是因为它们什么都不做：它们是可学习的投影，有权重和偏置，和其他层一样接收梯度、参与训练。不计入层数，是因为它们不在主路径上：走跨层数据通路的信号只经过一个1×1卷积层，**代替**残差块中的两个3×3卷积层，所以从输入到输出最长的一串层，也就是网络的深度，仍然是18层。下面列出每个1×1卷积层、它的参数数量，以及一次反向传播后它的权重是否得到了梯度。

# %%
weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
shortcuts = {name: m for name, m in net.named_modules() if name.endswith("shortcut")}

net.zero_grad()
loss = nn.functional.cross_entropy(net(torch.rand(2, 1, 96, 96)), torch.tensor([0, 1]))
loss.backward()
for name, conv in shortcuts.items():
    print(f"{name:14} {conv}  {count_parameters(conv):>7,}", bool(conv.weight.grad.abs().sum() > 0))

assert len(weighted) == 21  # 18 on the main path + 3 shortcuts
assert list(shortcuts) == ["2.0.shortcut", "3.0.shortcut", "4.0.shortcut"]
assert all(conv.kernel_size == (1, 1) and conv.stride == (2, 2) for conv in shortcuts.values())
assert all(conv.weight.requires_grad and conv.weight.grad.abs().sum() > 0
           for conv in shortcuts.values())
assert sum(count_parameters(conv) for conv in shortcuts.values()) == sum(
    c_in * c_out + c_out for c_in, c_out in [(64, 128), (128, 256), (256, 512)])

# %% [markdown]
# ## 其他深度和宽度
#
# 笔记中写道：“虽然ResNet的主体架构跟GoogLeNet类似，但ResNet架构更简单，修改也更方便。”D2L也说：“通过配置不同的通道数和模块里的残差块数可以得到不同的ResNet模型”。每个模块多放几个残差块就得到ResNet-34；换成瓶颈残差块（1×1、3×3、1×1）就得到ResNet-50以及更深的网络。每个网络只是模块中表格的一行：残差块的种类和每个模块的残差块数。`summarize_stages`在PyTorch的*meta*设备上构建网络（只有形状，没有数值），所以即使是很大的网络，也能瞬间数完：

# %%
from d2lresnet import ARCHITECTURES, STAGE_WIDTHS, display_name, resnet34
from d2lresnet.widgets import stage_widget, summarize_stages

summaries = {}
for name, (block, depths) in ARCHITECTURES.items():  # the family, as torchvision lists it
    summaries[name] = summarize_stages(depths, STAGE_WIDTHS, block)
    print(f"{display_name(name):11} {block.__name__:11} {str(depths):14}", summaries[name])
assert summaries["resnet34"] == (count_parameters(resnet34()), 34) == (21_290_250, 34)
assert [s.layers for s in summaries.values()] == [18, 34, 50, 101, 152, 50]  # ResNeXt-50 last

# %% [markdown]
# 试一试：调整每个模块的残差块数、通道数和残差块的种类；按钮可直接跳到标准的深度。图会重新画出所选网络处理224×224图像时的架构。

# %%
widget = stage_widget()
assert widget.result == (11_178_378, 18)
widget

# %% [markdown]
# ## 小结
#
# * ResNet-18的第一个模块就是GoogLeNet的（步幅为2的7×7卷积层、步幅为2的3×3最大汇聚层）再加上批量规范化层，它把224×224降到56×56。
# * 接下来是4个各含2个残差块的模块。从b3开始，每个模块的第一个残差块将高和宽减半、通道数翻倍，它的跨层数据通路需要一个可学习的1×1卷积层。
# * 全局平均汇聚层和一个全连接层构成网络的最后部分：主路径上共18层（1×1卷积层不在主路径上），共11,178,378个参数。
# * 四分之三的参数在b5中，但b3、b4和b5的计算量相同，b2多八分之一。
# * 深度和宽度只是表格中的一项：ResNet-34、ResNet-50、ResNet-101和ResNet-152都由同一个构建函数得到。

# %% [markdown]
# ## 练习
#
# 每道练习都有一个答案单元：把其中的`...`换成你的答案（一个数，或者计算它的代码）并运行，然后运行它下面的检查单元。检查单元告诉你答得对不对，不对时给出提示；正确答案由模块计算得出，所以本笔记本中任何地方都没有写出答案。每个检查单元下面折叠着一份解答：点击那三个点（JupyterLab）或**显示代码**（Colab）即可展开。教师分发的副本（`make student`）不含解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：ResNet-34有同样的四个模块，分别含3、4、6和3个残差块。它的b3（`resnet_block(64, 128, 4)`）有多少个参数？先手算，再用`count_parameters`验证。

# %%
answer_3_1 = ...  # your answer

# %%
exercises.check("03.1", answer_3_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
def conv(a, b, k=3):  # k x k weights per channel pair, one bias per output channel
    return k * k * a * b + b


batch_norm = 2 * 128  # gamma and beta per channel
first_block = conv(64, 128) + conv(128, 128) + 2 * batch_norm + conv(64, 128, k=1)
other_block = 2 * conv(128, 128) + 2 * batch_norm
answer_3_1 = first_block + 3 * other_block
assert answer_3_1 == count_parameters(nn.Sequential(*resnet_block(64, 128, 4)))
assert exercises.check("03.1", answer_3_1)

# %% [markdown]
# **练习2**：如果每个模块都有三个残差块（`resnet((3, 3, 3, 3))`），按照笔记的数法，这个网络有多少层？

# %%
answer_3_2 = ...  # your answer

# %%
exercises.check("03.2", answer_3_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
#@title Solution · 解答
from d2lresnet import resnet

answer_3_2 = 1 + 2 * (4 * 3) + 1  # the 7x7 conv, two 3x3 convs in each of 12 blocks, the FC
assert count_layers(resnet((3, 3, 3, 3))) == answer_3_2
assert exercises.check("03.2", answer_3_2)
