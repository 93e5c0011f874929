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
# 我们像笔记那样逐个搭建ResNet-18的各个模块，并把一张224×224的单通道图像送进去：经过b1之后，每个模块都把高和宽减半、通道数翻倍。然后在搭好的网络上数出名称中的18层，再试试其他深度。在默认预设下，用2核CPU运行全部单元格（Run All）需要约10秒。

# %% tags=["setup"] jupyter={"source_hidden": true}
from d2lresnet import i18n
from d2lresnet.drawing.plots import present_from_environment
i18n.set_notebook_language()
present_from_environment();  # D2LRESNET_PRESENT=1: large type for a room

# %% [markdown]
# ## b1：第一个模块
#
# 笔记中写道：“前两层跟GoogLeNet中的一样：在输出通道数为64、步幅为2的7×7卷积层后，接步幅为2的3×3的最大汇聚层。不同之处在于ResNet每个卷积层后增加了批量规范化层。”步幅为2的层都把高和宽减半，所以224先变成112，再变成56。

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
# 作为对照，下面按D2L中GoogLeNet一节的写法，手工写出GoogLeNet的第一个模块（b1）。单元格逐层比较两个b1：每层的类型，以及它的通道数、卷积核大小、步幅和填充。去掉ResNet的b1中的批量规范化层，剩下的就与GoogLeNet的b1完全相同。

# %%
googlenet_b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(),
                             nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
without_batchnorm = nn.Sequential(*[layer for layer in b1
                                    if not isinstance(layer, nn.BatchNorm2d)])
assert repr(without_batchnorm) == repr(googlenet_b1)
googlenet_b1

# %% [markdown]
# ## b2到b5：由残差块组成的4个模块
#
# GoogLeNet在b1后面接的是由Inception块组成的四个模块；笔记中写道，ResNet则“使用4个由残差块组成的模块，每个模块使用若干个同样输出通道数的残差块。”b2的通道数同输入通道数一致；由于之前已经使用了步幅为2的最大汇聚层，所以也无须减小高和宽。之后的每个模块**在第一个残差块里**将通道数翻倍，并将高和宽减半（步幅为2，并在跨层数据通路上加一个1×1卷积层，把输入变换成新的形状）；其余的残差块保持形状不变。

# %%
print(inspect.getsource(resnet_block))

# %% [markdown]
# 笔记中写道：“接着在ResNet加入所有残差块，这里每个模块使用2个残差块。”下面逐个搭建b2到b5：

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
# 笔记中写道：“最后，与GoogLeNet一样，在ResNet中加入全局平均汇聚层，以及全连接层输出。”全局平均汇聚层把512个通道各变成一个数，全连接层再把这些数映射到Fashion-MNIST的10个类别。下面给出输出形状和参数数量。这个网络就是后面几节用`resnet18()`构建的网络：参数张量完全相同，顺序也一致。

# %%
net = nn.Sequential(b1, b2, b3, b4, b5,
                    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10))
assert net(X).shape == (1, 10)
assert [p.shape for p in net.parameters()] == [p.shape for p in resnet18().parameters()]
net(X).shape, count_parameters(net)

# %% [markdown]
# 这就是笔记中ResNet-18的架构图，直接由`net`画出。每个框是一个卷积层连同其后的批量规范化层和ReLU，或者一个没有参数的层。每个残差块的两个3×3卷积层框在一起，上方的折线是它的跨层数据通路，含1×1卷积层的画成虚线。编号数的是名称中的层，每行末尾的箭头上标着该部分的输出形状。

# %%
from d2lresnet.drawing.resnet_diagram import draw_resnet

draw_resnet(net, (1, 1, 224, 224))

# %% [markdown]
# ## 为什么是“18”层？
#
# 笔记中写道：“每个模块有4个卷积层（不包括恒等映射的1×1卷积层）。加上第一个7×7卷积层和最后一个全连接层，共有18层。因此，这种模型通常被称为ResNet-18。”跨层数据通路上有1×1卷积层时，它就不再是恒等映射，而是一个可学习的投影。它不计入层数，是因为它不在主路径上：走跨层数据通路的信号只经过一个1×1卷积层，**代替**残差块中的两个3×3卷积层，所以它并不增加深度。下面在`net`上逐个部分地数（b1、b2到b5、全局平均汇聚层、展平层、全连接层）：

# %%
weighted = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
on_shortcuts = [m for name, m in net.named_modules() if name.endswith("shortcut")]
per_part = [count_layers(part) for part in net]
print(i18n.tr("nb03_layer_count", weighted=len(weighted), shortcuts=len(on_shortcuts),
              per_part=per_part, depth=sum(per_part)))
assert per_part == [1, 4, 4, 4, 4, 0, 0, 1]

# %% [markdown]
# ## 其他深度和宽度
#
# 笔记中写道：“虽然ResNet的主体架构跟GoogLeNet类似，但ResNet架构更简单，修改也更方便。”每个模块多放几个残差块就得到ResNet-34；换成瓶颈残差块（1×1、3×3、1×1卷积层）就得到ResNet-50以及更深的网络。每个网络只是表格中的一行：残差块的种类和每个模块的残差块数。按笔记的数法，每个网络的层数都与它名称中的数字相同。这些网络只按形状构建、不含数值，所以即使是最大的网络也能立刻数完：

# %%
import re

from d2lresnet import ARCHITECTURES, STAGE_WIDTHS, display_name
from d2lresnet.widgets import stage_widget, summarize_stages

for name, (block, depths) in ARCHITECTURES.items():
    summary = summarize_stages(depths, STAGE_WIDTHS, block)
    print(i18n.tr("nb03_family_row", name=display_name(name), block=block.__name__,
                  depths=depths, layers=summary.layers, parameters=summary.parameters))
    assert int(re.search(r"-(\d+)", display_name(name))[1]) == summary.layers

# %% [markdown]
# 试一试：调整每个模块的残差块数、通道数和残差块的种类；按钮可直接跳到标准的深度。图会重新画出所选网络处理224×224图像时的架构。

# %%
stage_widget()

# %% [markdown]
# ## 小结
#
# * ResNet-18的b1就是GoogLeNet的第一个模块（步幅为2的7×7卷积层、步幅为2的3×3最大汇聚层）再加上批量规范化层，它把224×224降到56×56。
# * 接下来是b2到b5四个模块，各含2个残差块。从b3开始，每个模块的第一个残差块将高和宽减半、通道数翻倍，它的跨层数据通路需要一个可学习的1×1卷积层。
# * 全局平均汇聚层和一个全连接层构成网络的最后部分：主路径上共18层，跨层数据通路上的1×1卷积层不在主路径上。
# * 深度和宽度只是表格中的一项：ResNet-34、ResNet-50、ResNet-101和ResNet-152都由同一个构建函数得到。

# %% [markdown]
# ## 练习
#
# 把答案单元中的`...`换成你的答案（一个数，或者计算它的代码）并运行，然后运行下面的检查单元：它会告诉你答得对不对，不对时给出提示。每个检查单元下面都折叠着一份解答。

# %%
from d2lresnet import exercises

# %% [markdown]
# **练习1**：ResNet-34有同样的四个模块，分别含3、4、6和3个残差块。它的b3（`resnet_block(64, 128, 4)`）有多少个可训练参数（包括权重和偏置，以及批量规范化层的拉伸参数γ和偏移参数β）？先手算，再用`count_parameters`验证。答案是一个整数。

# %%
answer_3_1 = ...  # your answer · 你的答案

# %%
exercises.check("03.1", answer_3_1)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
def conv(a, b, k=3):  # k x k weights per channel pair, one bias per output channel
    return k * k * a * b + b


batch_norm = 2 * 128  # gamma and beta per channel
first_block = conv(64, 128) + conv(128, 128) + 2 * batch_norm + conv(64, 128, k=1)
other_block = 2 * conv(128, 128) + 2 * batch_norm
solution_3_1 = first_block + 3 * other_block
assert solution_3_1 == count_parameters(nn.Sequential(*resnet_block(64, 128, 4)))
assert exercises.check("03.1", solution_3_1)

# %% [markdown]
# **练习2**：如果每个模块都有三个残差块（`resnet((3, 3, 3, 3))`），按照笔记的数法，这个网络有多少层？答案是一个整数。

# %%
answer_3_2 = ...  # your answer · 你的答案

# %%
exercises.check("03.2", answer_3_2)

# %% tags=["solution"] jupyter={"source_hidden": true} cellView="form"
# Solution · 解答
from d2lresnet import resnet

solution_3_2 = 1 + 2 * (4 * 3) + 1  # the 7x7 conv, two 3x3 convs in each of 12 blocks, the FC
assert count_layers(resnet((3, 3, 3, 3))) == solution_3_2
assert exercises.check("03.2", solution_3_2)

# %% [markdown]
# ## 更进一步
#
# ### 参数和计算量在哪里
#
# 每个模块一行，都从网络本身读出：输入通道数 → 输出通道数、可训练参数的数量、占整个网络参数的比例，以及处理一张224×224图像所需的GFLOP（十亿次浮点运算，由`torch.utils.flop_counter`统计）。最后给出每个模块与前一个模块的参数数量之比。

# %%
from d2lresnet import count_flops

stages = {"b2": (b2, Y1.shape), "b3": (b3, Y2.shape), "b4": (b4, Y3.shape), "b5": (b5, Y4.shape)}
params = {name: count_parameters(stage) for name, (stage, _) in stages.items()}
flops = {name: count_flops(stage, shape) for name, (stage, shape) in stages.items()}
total = count_parameters(net)
for name, (stage, _) in stages.items():
    print(i18n.tr("nb03_stage_row", stage=name, c_in=stage[0].conv1.in_channels,
                  c_out=stage[-1].conv2.out_channels, parameters=params[name],
                  share=params[name] / total, gflop=flops[name] / 1e9))
ratios = {f"{later} / {earlier}": round(params[later] / params[earlier], 3)
          for earlier, later in zip(params, list(params)[1:])}
ratios

# %% [markdown]
# 从b4开始，每个模块的参数几乎正好是它前面那个的4倍：b4就是宽度翻倍的b3，b5就是宽度翻倍的b4，而从$c$个通道到$c$个通道的3×3卷积层有$9c^2$个权重。b3的参数只有b2的约3.5倍，因为它的第一个卷积层只输入64个通道，只有它宽度的一半，而b2的4个卷积层都是完整宽度。因此，ResNet-18四分之三的权重都在b5中。
#
# 计算量却分布得很均匀：b3、b4和b5的浮点运算次数完全相同，因为每个模块把高和宽减半（像素变为四分之一），同时把通道数翻倍（每个像素的计算量变为4倍）。b2比它们各多八分之一，笔记本04会推导其中的原因。

# %%
assert 3.5 < params["b3"] / params["b2"] < 3.6
assert all(3.99 < params[later] / params[earlier] < 4
           for earlier, later in [("b3", "b4"), ("b4", "b5")])
assert round(params["b5"] / total, 2) == 0.75
assert flops["b3"] == flops["b4"] == flops["b5"] and 8 * flops["b2"] == 9 * flops["b3"]

# %% [markdown]
# ### 跨层数据通路上的卷积层也在学习
#
# 跨层数据通路上的3个1×1卷积层（在b3、b4、b5的第一个残差块中）不计入层数，并不是因为它们什么都不做：它们都有权重和偏置，和其他层一样接收梯度、参与训练。下面列出每个1×1卷积层、它的参数数量，以及一次反向传播后它的权重梯度的范数。

# %%
net.zero_grad()
loss = nn.functional.cross_entropy(net(torch.rand(2, 1, 96, 96)), torch.tensor([0, 1]))
loss.backward()
for conv in on_shortcuts:
    print(i18n.tr("nb03_shortcut_row", conv=conv, parameters=count_parameters(conv),
                  norm=conv.weight.grad.norm().item()))
assert all(conv.weight.grad.norm() > 0 for conv in on_shortcuts)
