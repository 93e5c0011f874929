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
# # 6 残差网络（ResNet） · Residual networks
#
# 同一套笔记本，两种语言，代码完全相同。 The same notebooks in two languages, with identical code.
#
# | 节 · section | 中文 | English |
# |---|---|---|
# | 6.1 函数类 | [01 函数类](zh/01_function_classes.ipynb) | [01 Function classes](en/01_function_classes.ipynb) |
# | 6.2 残差块 | [02 残差块](zh/02_residual_block.ipynb) | [02 Residual blocks](en/02_residual_block.ipynb) |
# | 6.3 ResNet模型 | [03 ResNet模型](zh/03_resnet_model.ipynb) | [03 The ResNet model](en/03_resnet_model.ipynb) |
# | 6.3 查看形状 | [04 查看形状](zh/04_shape_tracing.ipynb) | [04 Tracing shapes](en/04_shape_tracing.ipynb) |
# | 6.4 训练 | [05 训练](zh/05_training.ipynb) | [05 Training](en/05_training.ipynb) |
# | 更深的网络 · going deeper | [06 退化问题](zh/06_degradation.ipynb) | [06 Degradation](en/06_degradation.ipynb) |
| 为什么有效 · why it works | [06b 残差块为什么有效](zh/06b_why_residuals_work.ipynb) | [06b Why residual blocks work](en/06b_why_residuals_work.ipynb) |
# | ResNet家族与练习 · family, exercises | [07 ResNet家族与练习](zh/07_family_and_exercises.ipynb) | [07 The family and the exercises](en/07_family_and_exercises.ipynb) |
# | 附录 · appendix | [08 附录：多快、在什么机器上、为什么](zh/08_appendix.ipynb) | [08 Appendix: how fast, on what machine, and why](en/08_appendix.ipynb) |
#
# 训练时长由环境变量`D2LRESNET_PRESET`选择（`smoke`、`quick`、`best`、`book`），见笔记本08。
# Training time is chosen with `D2LRESNET_PRESET` (`smoke`, `quick`, `best`, `book`); see notebook 08.
