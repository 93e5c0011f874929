"""The message catalogue: ``MESSAGES[language][key]`` is a ``str.format`` template.

Add a key to both languages (tests/test_i18n_strings.py checks that they have the same keys and
the same {fields}). Terms follow D2L zh (残差块, 批量规范化, 汇聚层, 步幅, ...), with Chinese
punctuation in Chinese text.
"""

MESSAGES = {
    "en": {
        # D2L's terms, the glossary of the notes
        "residual_block": "residual block", "residual_mapping": "residual mapping",
        "as_if_trained": "Residual(3, 3), as if trained",
        "after_zero_init": "Residual(3, 3) after zero_init_()",
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
        "resnet_numbered": "numbers count the {layers} layers of the name; each conv box "
                           "includes the batch norm and ReLU after it",
        "cjk_font_missing": "No Chinese font found for matplotlib, so figures use English "
                            "labels; install one (Debian/Ubuntu: sudo apt-get install "
                            "fonts-noto-cjk) and restart the kernel.",
        # shapes.block_output_shape, and the blocks' errors: why the input cannot be added
        "block_output": "output shape {shape}", "cannot_add": "cannot add: {reason}",
        "reason_whole_number": "{name} must be a whole number of at least {minimum}, got {value}",
        "reason_whole_number_range": "{name} must be a whole number from {minimum} to {maximum}, "
                                     "got {value}",
        "reason_true_false": "{name} must be True or False, got {value}",
        "reason_channels": "the input has {input_channels} channels but the block outputs "
                           "{num_channels}; without the 1x1 conv the two cannot be added "
                           "(use_1x1conv=True changes the input's channels)",
        "reason_stride": "stride {strides} shrinks {height}x{width} to "
                         "{out_height}x{out_width}, but the shortcut still carries "
                         "{height}x{width}; use_1x1conv=True applies the same stride to the "
                         "shortcut",
        "error_channels": "the shortcut adds the input ({input_channels} channels) to the "
                          "block's output ({num_channels} channels); they must match, or pass "
                          "use_1x1conv=True so a 1x1 convolution changes the channels first",
        "error_shapes": "{block}: cannot add the input {input_shape} to the output "
                        "{output_shape}; a stride above 1 shrinks height and width, so "
                        "use_1x1conv=True is needed to bring the input to the same shape",
        # widgets: control labels, readouts, the trace table, the resolution/channels plot
        "input_channels": "input channels", "output_channels": "output channels",
        "height": "height", "width": "width", "input_size": "input size",
        "stage_blocks": "{stage} blocks", "stage_channels": "{stage} channels",
        "block": "block", "basic_option": "basic (Residual)", "bottleneck_option": "bottleneck",
        "block_on_input": "{call} on an input of {channels} x {height} x {width}:",
        "stage_summary": "{layers} layers{this_is}, {parameters} parameters "
                         "({mib} MiB as float32)",
        "this_is": " (this is {name})", "input_shape": "input {shape}",
        "trace_layer": "layer", "trace_parameters": "parameters",
        "height_and_width": "height = width", "num_channels": "channels",
        "stage_output": "output of stage", "input_title": "{size} x {size} input",
        # plots: the training plot, the confusion matrix
        "train_loss": "train loss", "train_acc": "train acc", "test_acc": "test acc",
        "epoch": "epoch", "true_class": "true class", "predicted_class": "predicted class",
        # Fashion-MNIST's ten classes (data.class_names())
        "class_t_shirt": "t-shirt", "class_trouser": "trouser", "class_pullover": "pullover",
        "class_dress": "dress", "class_coat": "coat", "class_sandal": "sandal",
        "class_shirt": "shirt", "class_sneaker": "sneaker", "class_bag": "bag",
        "class_ankle_boot": "ankle boot",
        # train.History.summary(): what the speed after the book's two lines means
        # machine.estimate_training: before a long cell, how long it will take here
        "estimate": "This will take {duration} on this machine (timed from a few steps just "
                    "now).",
        "duration_under_minute": "under a minute", "duration_minutes": "about {minutes} minutes",
        "duration_hours": "about {hours} hours",
        "speed_note": "(end to end, data loading included; compute alone, as the book times "
                      "it: {rate} examples/sec; {precision})",
        # notebook 05: the student's result line under the notes'
        "result_notes": "<- the notes (book recipe, 10 epochs, CPU)",
        "result_ours": "<- this run ({preset})",
        "result_saved": "<- the saved run ({preset})",
        "saved_run": "The saved run ({preset}: {epochs} epochs, test acc {test_acc}); the cells "
                     "below read it, not the run above.",
        "compare_book": "The same recipe: test accuracy after ten epochs is one draw from a "
                        "swing (the saved run: {low} to {high} after epoch 4).",
        "compare_smoothed": "Another recipe ({preset}): label smoothing {smoothing} puts a "
                            "floor under its loss, which cannot be compared with the notes'; "
                            "compare test accuracy only.",
        # degradation.plot_degradation, gradients.plot_grad_norms
        "plain": "plain", "residual": "residual",
        "networks_title": "{kind} networks{extra}",
        "smoke_run_note": " (smoke run: machinery only)",
        "saved_run_note": " (saved run)",
        "deg_col_net": "network", "deg_col_below": "loss < 1e-3 from",
        "deg_col_loss": "last loss", "deg_col_err": "last error",
        "deg_col_trend": "last 10 / 10 before", "deg_never": "never",
        "grad_col_first_last": "‖g‖ first/last", "grad_col_spread": "‖g‖ max/min",
        "grad_col_relative": "‖g‖/‖w‖ first/last",
        "curve_train": "{kind}-{depth} train", "curve_test": "{kind}-{depth} test",
        "error_percent": "error (%)",
        # frontier.plot_frontier
        "wall_minutes": "wall time (minutes, log scale)",
        "frontier_title": "test accuracy against wall time, per preset",
        "book_compute": "training compute (fraction of the book recipe's 10 epochs, log scale)",
        "compute_title": "test accuracy against training compute (any machine)",
        "ablation_title": "one trick at a time on quick with the Xavier stem, on several seeds",
        "ablation_title_whitened": "one trick at a time on quick with the whitened stem, on "
                                   "several seeds",
        "ablation_x": "test accuracy at the end ({compute} of the book recipe's compute)",
        "ablation_seed": "one seed", "ablation_mean": "mean of the seeds",
        "trained_on_cpu": "dashed: trained on a CPU", "compute_goal": "goal: {acc} with {share}",
        "with_flips": "{name} with test-time flips: {acc}",
        "notes_result": "the notes' result (book, 10 epochs): {acc}",
        "col_preset": "preset", "col_epochs": "epochs", "col_wall": "wall time",
        "col_test_acc": "test acc", "col_with_flips": "with test-time flips",
        "col_machine": "machine", "minutes": "{n} min", "no_runs": "No preset measured yet.",
        "col_compute": "compute (book = 1)", "col_compute_to": "to {acc}",
        "col_trick": "trick", "col_seeds": "seeds", "col_acc_mean": "test acc (mean ± half spread)",
        "col_vs_base": "vs base", "col_flips_shifts": "flips and shifts",
        "shared_cpu": "shared: other processes used up to {pct}% of the CPU",
        # versus.plot_versus
        "plain_cnn": "plain CNN", "resnet18": "ResNet-18",
        "versus_line": "{net}: {acc} ({params}M parameters, {seconds} s per epoch)",
        "versus_title": "a plain CNN against ResNet-18, one recipe ({preset}, {side}×{side})",
        "grad_xlabel": "conv layer (input side to output side)",
        "grad_ylabel": "weight-gradient norm", "grad_title": "gradients at initialisation",
        # family.format_family_table's column headers (a column without a key keeps its name)
        "col_model": "model", "col_block": "block", "col_depths": "depths",
        "col_layers": "layers", "col_params": "params",
        "col_params_tv_config": "params_tv_config",
        "col_params_torchvision": "params_torchvision", "col_gmacs_96": "gmacs_96",
        "col_gmacs_224": "gmacs_224", "col_gmacs_torchvision": "gmacs_torchvision",
        "col_top1": "top1", "col_table1": "Table 1", "col_ours_over_table1": "ours/Table 1",
        "col_groups": "groups", "col_mmacs": "MMACs",
        # notebook 07's figures
        "gmacs_image": "GMACs per {size}×{size} image", "imagenet_top1": "ImageNet top-1 (%)",
        "blocks_stacked": "blocks stacked",
        "gradient_intact": "share of the gradient reaching the input unchanged",
        "preact_stack": "pre-activation (nothing after the addition)",
        "postact_stack": "original (ReLU after the addition)",
        # insertion.plot_insertion (notebook 01)
        "insertion_control": "small net alone (control)",
        "insertion_plain": "{layers} plain layers", "insertion_residual": "{n} residual blocks",
        "insertion_zero_init": "{n} residual blocks, zero_init_",
        "steps_after_insertion": "steps after insertion",
        "training_loss_all": "training loss (all data, their statistics)",
        "small_net_trained": "the small net's training loss: {before:.4f} before, {after:.4f} "
                             "after {steps} steps",
        "insertion_same": "{name:>9}: loss {loss:.4f} at insertion; the small net's function "
                          "exactly: {same}",
        "insertion_row": "{name:>9}: at insertion {at_insertion}; highest {highest}; at the end "
                         "{at_end}",
        "eval_mode_loss": "residual, at insertion: loss {eval_mode:.4f} in eval mode (default "
                          "running statistics), {data:.4f} with the data's statistics",
        # identity.plot_identity and its table (notebook 01)
        "identity_plain": "2 plain layers", "identity_residual": "1 residual block",
        "steps_training_new": "steps training the new layers",
        "distance_to_identity": "distance to the identity", "grown_loss": "grown net's loss",
        "identity_never": "never",
        "identity_close": "5% from the identity", "identity_small_net": "the small net's loss",
        "identity_row": "{kind:>8}: steps to within 5% of the identity {steps}; at the end: "
                        "distance {distance}, loss {loss}",
        # exercises.check: the verdict, the form an answer takes, one hint per exercise
        "form_plain_or_residual": "\"plain\" or \"residual\"",
        "hint_06_1": "look at the last epoch of the {depth}-layer curves in your run's figure, "
                     "seed by seed",
        "hint_06_2": "go stage by stage: how many channels each convolution connects, "
                     "which layers have a bias, and whether a shortcut has any weights",
        "exercise_right": "✓ Right.", "exercise_wrong": "✗ Not yet. Hint: {hint}",
        "exercise_unanswered": "Not answered yet: replace the ... in the answer cell above "
                               "with your answer, run that cell, then this one.",
        "exercise_wrong_form": "✗ The answer should be {form}; got {value}.",
        "form_whole_number": "a whole number", "form_side": "a whole number of at least 2",
        "form_numbers": "a list of whole numbers, like [2, 4]",
        "form_shape": "a shape of three whole numbers, (channels, height, width)",
        "form_letters": "a list of letters, like [\"a\", \"b\"]",
        "hint_01_1": "count one block layer by layer: what a 3×3 convolution holds for each "
                     "of its output channels, and what a batch norm layer holds per channel; "
                     "then mind how many blocks there are. count_parameters() counts a block "
                     "you built.",
        "hint_01_2": "G_k contains G_1 only if one of G_k's bumps sits where G_1's does, at 0 "
                     "(they all have the same width): look at where bumps() puts the centres. "
                     "contains(bumps(k), bumps(1)) checks one k.",
        "hint_02_1_channels": "the channels are wrong: a block outputs num_channels channels, "
                              "whatever its input has.",
        "hint_02_1_side": "the channels are right; height and width are not. The first 3×3 "
                          "conv sets them: padding 1 adds a pixel on each side, and the stride "
                          "keeps every second position, starting from the first; mind the odd "
                          "side.",
        "hint_02_2": "{missing} block(s) that can add are missing from your list, and it has "
                     "{extra} that cannot. Without use_1x1conv=True the input is added as it "
                     "is, so its channels and its height and width must already match; "
                     "block_output_shape(...) tells you for one block.",
        "hint_02_3": "think of a 1×1 conv as a fully connected layer applied at every pixel, "
                     "from the input channels to the output channels, and count that layer's "
                     "weights and biases; print(block.shortcut) shows the channels.",
        "hint_03_1": "ResNet-34's b3 is resnet_block(64, 128, 4). Only its first block starts "
                     "from 64 channels and has the 1×1 conv on the shortcut; the other three "
                     "blocks are alike, so count the first block and one other. Each conv has "
                     "weights and a bias, each batch norm layer γ and β; print(...) shows every "
                     "layer's channels, and count_parameters() counts a stage you built.",
        "hint_03_2": "count as the notes do: the 7×7 conv, two 3×3 convs per residual block and "
                     "the fully connected layer; the 1×1 convs on the shortcuts do not count.",
        "hint_04_1": "work backwards from b5: for it to put out a side of 2, what is the "
                     "smallest side it can receive? The output-size formula rounds down, so "
                     "one pixel more can make the difference. Take the same step back through "
                     "each layer that halves the side, up to the input.",
        "hint_04_2": "apply the output-size formula once for each layer that changes the side, "
                     "in the order the image meets them, each with its own kernel size, stride "
                     "and padding: print(net) shows them. A layer with stride 1 and a padding "
                     "that fits its kernel keeps the side.",
        # notebooks 03 and 04
        "nb03_layer_count": "{weighted} layers with weights, {shortcuts} of them 1×1 convs on "
                            "shortcuts; the notes' count per part: {per_part}, {depth} in all",
        "nb03_family_row": "{name:<19} {block:<17} blocks per stage {depths}: {layers} layers, "
                           "{parameters:,} parameters",
        "nb03_stage_row": "{stage}  {c_in:>3} → {c_out:<3} {parameters:>10,} parameters "
                          "{share:6.1%} of the network  {gflop:.3f} GFLOP",
        "nb03_shortcut_row": "{conv}: {parameters:,} parameters, gradient norm {norm:.2g}",
        "form_class": "a class: its name, like \"coat\", or its number from 0 to 9",
        "form_network": "a network (an nn.Module), like resnet(...)",
        "form_layer_names": "a list of layer names, like [\"conv\", \"bn\", \"relu\"]",
        "form_positive_number": "a positive number",
        "hint_05_1": "SGD updates the weights once per minibatch, and in every epoch each "
                     "training image is in exactly one minibatch.",
        "hint_05_2": "a row of the confusion matrix holds one true class's test images, and "
                     "its diagonal entry those the network got right.",
        "hint_07_1": "an Inception block does not add its paths, it joins them along the "
                     "channels (torch.cat in its forward): what does each path contribute?",
        "hint_07_2_layers": "your network has {layers} layers as the notes count them; Table 1 "
                            "gives ResNet-34's residual blocks per stage, two 3×3 convs each, "
                            "plus the 7×7 conv and the fully connected layer.",
        "hint_07_2_widths": "34 layers, but not ResNet-34's parameters: keep the notes' widths "
                            "(64, 128, 256, 512) and basic residual blocks; only the blocks per "
                            "stage change.",
        "hint_07_3": "go layer by layer: print(Bottleneck(1024, 256)) lists its layers with "
                     "their channels in and out; ask what each one holds per channel, the "
                     "biases and BatchNorm's scale and shift included.",
        "hint_07_4_order": "the right layers, in the wrong order: “pre-activation” says where "
                           "BatchNorm and ReLU sit against each convolution, and a residual "
                           "block adds its input to what its branch computed.",
        "hint_07_4_layers": "not the right layers: the branch keeps the notes' two "
                            "convolutions, each with its own BatchNorm and ReLU, the block adds "
                            "its input once, and what follows the addition is what He et al. "
                            "(2016) changed.",
        "family_new_depths": "{a} → {b}: blocks per stage {old} → {new}, same block",
        "family_new_block": "{a} → {b}: block {old} → {new}, same blocks per stage",
        "inception_misfit": "one Inception path one channel wider: block {block} of GoogLeNet "
                            "gets {got} channels but was built for {built_for}",
        "numbers_by_hand": "channel numbers chosen by hand: {inception} for GoogLeNet's "
                           "Inception blocks; ResNet-18's stages take {resnet} numbers in all "
                           "(a width and a block count each)",
        "block_cost": "{block}: {params:,} parameters, {mflops:.0f} MFLOPs forward",
        "epoch_line": "epoch {epoch}: loss {loss:.3f}, train acc {train_acc:.3f}, test acc "
                      "{test_acc:.3f}",
        # notebook 08
        "run_epochs_line": "{name}: {minutes:.0f} min an epoch (median), {rate:.0f} examples/sec "
                           "(compute step), {precision}, {machine}",
        "run_share_line": "{name}: test acc {acc:.3f} after {minutes:.0f} min, {share:.2f} of "
                          "the book's time",
        "tta_cost": "compute (book = 1): {trained:.3f} to train, {total:.3f} with the ten test views",
        "whiten_pairs": "final test accuracy, seeds 0 1 2: Xavier stem {xavier}; whitened stem "
                        "{whitened}",
        "compute_to_line": "quick: 0.92 at {share:.3f} of the book's compute; best of all runs: "
                           "{best:.3f}",
        "b5_at_side": "{side}×{side}: b5 puts out {b5}×{b5}, {cost:.1f}× the arithmetic at 28×28",
        "table1_line": "{model}: v1.5 {v15:.2f}, v1 {v1:.2f}, Table 1 {paper}",
        "hint_07_5": "the layers are not the measure: each of the three stages has n residual "
                     "blocks, a stage that halves the side doubles the channels, so every "
                     "block costs about the same; the first layer and the head cost little. "
                     "count_flops() counts both networks.",
        # notebook 06b: gradients.without_shortcuts, lesion.plot_lesions, landscape
        "twin": "{kind}-{depth}", "resnet18_plain": "ResNet-18 without shortcuts",
        "rel_grad_ylabel": "‖weight gradient‖ / ‖weights‖",
        "grad_title_trained": "after {steps} training steps",
        "lesion_xlabel": "deleted block (input side to output side)",
        "lesion_title": "test accuracy with one block deleted",
        "landscape_step": "step along a filter-normalised direction",
        "landscape_loss": "training loss (log scale)", "direction": "direction {k}",
        "grad_spread_line": "seed {seed}, {net}: spread {before:.1f} at initialisation, "
                            "{after:.1f} after training (mean training loss {loss:.2f})",
        "lesion_line": "{net}: intact {intact:.3f}; one block deleted: {low:.3f} to {high:.3f} "
                       "(on average {drop:.3f} lower)",
        "rough_line": "{net}: roughness {line:.3f} along the line, {plane:.3f} over the plane",
        "hint_06b_1": "at each block a path has two ways to go on; count the choices along "
                      "the whole network and how choices at different blocks combine",
        "hint_06b_2": "a path is fixed by the set of blocks where it takes the branch; count "
                      "the sets of that size, the order of the blocks being given",
    },
    "zh": {
        "residual_block": "残差块", "residual_mapping": "残差映射",
        "as_if_trained": "Residual(3, 3)，如同训练过", "after_zero_init": "Residual(3, 3)，zero_init_()之后",
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
        "resnet_numbered": "编号数出名称中的{layers}层；每个卷积层的框包括其后的批量规范化层和ReLU",
        "cjk_font_missing": "matplotlib找不到中文字体，图中文字改用英文。请安装字体"
                            "（Debian/Ubuntu：sudo apt-get install fonts-noto-cjk），"
                            "然后重启内核。",
        "block_output": "输出形状{shape}", "cannot_add": "无法相加：{reason}",
        "reason_whole_number": "{name}必须是不小于{minimum}的整数，而这里是{value}",
        "reason_whole_number_range": "{name}必须是{minimum}到{maximum}之间的整数，而这里是{value}",
        "reason_true_false": "{name}必须是True或False，而这里是{value}",
        "reason_channels": "输入有{input_channels}个通道，残差块却输出{num_channels}个通道；"
                           "不含1×1卷积层时二者无法相加（设置use_1x1conv=True可先改变输入的"
                           "通道数）",
        "reason_stride": "步幅{strides}把{height}×{width}缩小为{out_height}×{out_width}，"
                         "跨层数据通路传过来的却仍是{height}×{width}；设置use_1x1conv=True，"
                         "跨层数据通路也会使用同样的步幅",
        "error_channels": "跨层数据通路把输入（{input_channels}个通道）加到残差块的输出"
                          "（{num_channels}个通道）上，二者的通道数必须相同；否则请传入"
                          "use_1x1conv=True，先用1×1卷积层改变输入的通道数",
        "error_shapes": "{block}：无法把输入{input_shape}加到输出{output_shape}上；步幅大于1时"
                        "高和宽会缩小，所以需要use_1x1conv=True把输入变换成相同的形状",
        "input_channels": "输入通道数", "output_channels": "输出通道数",
        "height": "高", "width": "宽", "input_size": "输入大小",
        "stage_blocks": "{stage}残差块数", "stage_channels": "{stage}通道数",
        "block": "残差块", "basic_option": "基本残差块（Residual）",
        "bottleneck_option": "瓶颈残差块",
        "block_on_input": "{call}作用于{channels}×{height}×{width}的输入：",
        "stage_summary": "{layers}层{this_is}，{parameters}个参数"
                         "（按float32计占{mib} MiB）",
        "this_is": "（即{name}）", "input_shape": "输入{shape}",
        "trace_layer": "层", "trace_parameters": "参数数量",
        "height_and_width": "高和宽", "num_channels": "通道数",
        "stage_output": "各模块的输出", "input_title": "{size}×{size}输入",
        "train_loss": "训练损失", "train_acc": "训练精度", "test_acc": "测试精度",
        "epoch": "迭代周期", "true_class": "真实类别", "predicted_class": "预测类别",
        # D2L zh 3.5's names
        "class_t_shirt": "T恤", "class_trouser": "裤子", "class_pullover": "套衫",
        "class_dress": "连衣裙", "class_coat": "外套", "class_sandal": "凉鞋",
        "class_shirt": "衬衫", "class_sneaker": "运动鞋", "class_bag": "包",
        "class_ankle_boot": "短靴",
        "estimate": "在这台机器上，这需要{duration}（刚才按几个训练步计时估算）。",
        "duration_under_minute": "不到1分钟", "duration_minutes": "约{minutes}分钟",
        "duration_hours": "约{hours}小时",
        "speed_note": "（以上是端到端的速度，含读取数据的时间；像书中那样只计计算时间，"
                      "则是每秒{rate}个样本；{precision}）",
        "result_notes": "<- 笔记（book训练方案，10个迭代周期，CPU）",
        "result_ours": "<- 本次运行（{preset}）",
        "result_saved": "<- 保存的运行（{preset}）",
        "saved_run": "保存的运行（{preset}：{epochs}个迭代周期，测试精度{test_acc}）；下面的单元格"
                     "读取的是它，而不是上面那次运行。",
        "compare_book": "同一个训练方案：10个迭代周期后的测试精度只是一次摆动中的抽样"
                        "（保存的那次运行在第4个迭代周期之后介于{low}和{high}之间）。",
        "compare_smoothed": "另一个训练方案（{preset}）：标签平滑（{smoothing}）给损失设了下限，"
                            "损失无法与笔记的比较，只能比较测试精度。",
        "plain": "普通", "residual": "残差",
        "networks_title": "{kind}网络{extra}", "smoke_run_note": "（冒烟运行：只检验流程）",
        "saved_run_note": "（保存的运行）",
        "deg_col_net": "网络", "deg_col_below": "损失<1e-3始于",
        "deg_col_loss": "最终损失", "deg_col_err": "最终训练误差",
        "deg_col_trend": "末10个/前10个", "deg_never": "从未",
        "grad_col_first_last": "‖g‖首层/末层", "grad_col_spread": "‖g‖最大/最小",
        "grad_col_relative": "‖g‖/‖w‖首层/末层",
        "curve_train": "{kind}-{depth}训练误差", "curve_test": "{kind}-{depth}测试误差",
        "error_percent": "误差（%）",
        "wall_minutes": "耗时（分钟，对数坐标）",
        "frontier_title": "各预设的测试精度与耗时",
        "book_compute": "训练计算量（占书中方案10个迭代周期的比例，对数坐标）",
        "compute_title": "测试精度与训练计算量（与机器无关）",
        "ablation_title": "每次只在Xavier初始化主干的quick上加一个技巧，多个随机种子",
        "ablation_title_whitened": "每次只在白化主干的quick上加一个技巧，多个随机种子",
        "ablation_x": "训练结束时的测试精度（计算量为书中方案的{compute}）",
        "ablation_seed": "一个随机种子", "ablation_mean": "各随机种子的均值",
        "trained_on_cpu": "虚线：在CPU上训练", "compute_goal": "目标：以{share}的计算量达到{acc}",
        "with_flips": "{name}加上测试时翻转：{acc}",
        "notes_result": "笔记的结果（book，10个迭代周期）：{acc}",
        "col_preset": "预设", "col_epochs": "迭代周期数", "col_wall": "耗时",
        "col_test_acc": "测试精度", "col_with_flips": "加上测试时翻转",
        "col_machine": "机器", "minutes": "{n}分钟", "no_runs": "还没有测量过任何预设。",
        "col_compute": "计算量（书中方案为1）", "col_compute_to": "达到{acc}时",
        "col_trick": "技巧", "col_seeds": "随机种子数", "col_acc_mean": "测试精度（均值±半个极差）",
        "col_vs_base": "与基准之差", "col_flips_shifts": "加上测试时翻转和平移",
        "shared_cpu": "与其他进程共用：其他进程最多占用了{pct}%的CPU",
        "plain_cnn": "普通卷积神经网络", "resnet18": "ResNet-18",
        "versus_line": "{net}：{acc}（{params}M个参数，每个迭代周期{seconds}秒）",
        "versus_title": "普通卷积神经网络与ResNet-18，同一训练方案（{preset}，{side}×{side}）",
        "grad_xlabel": "卷积层（从输入端到输出端）",
        "grad_ylabel": "权重梯度的范数", "grad_title": "初始化时的梯度",
        "col_model": "模型", "col_block": "残差块", "col_depths": "各模块的残差块数",
        "col_layers": "层数", "col_params": "参数数量",
        "col_params_tv_config": "参数数量（torchvision配置）",
        "col_params_torchvision": "参数数量（torchvision公布）", "col_gmacs_96": "GMACs（96×96）",
        "col_gmacs_224": "GMACs（224×224）", "col_gmacs_torchvision": "GMACs（torchvision公布）",
        "col_top1": "top-1精度（%）", "col_table1": "表1", "col_ours_over_table1": "我们的/表1",
        "col_groups": "分组数", "col_mmacs": "乘加次数（百万）",
        "gmacs_image": "每张{size}×{size}图像的乘加次数（GMACs）",
        "imagenet_top1": "ImageNet top-1精度（%）",
        "blocks_stacked": "堆叠的残差块数",
        "gradient_intact": "原样到达输入的梯度所占比例",
        "preact_stack": "预激活（相加之后什么也没有）",
        "postact_stack": "原始结构（相加之后接ReLU）",
        "insertion_control": "只训练小网络（对照）",
        "insertion_plain": "{layers}个普通层", "insertion_residual": "{n}个残差块",
        "insertion_zero_init": "{n}个残差块，zero_init_",
        "steps_after_insertion": "添加之后的步数",
        "training_loss_all": "训练损失（全部数据及其统计量）",
        "small_net_trained": "小网络的训练损失：训练前{before:.4f}，训练{steps}步后{after:.4f}",
        "insertion_same": "{name:>9}：添加时的损失{loss:.4f}；与小网络的函数完全相同：{same}",
        "insertion_row": "{name:>9}：添加时{at_insertion}；最高{highest}；最后{at_end}",
        "eval_mode_loss": "residual，添加时：预测模式下（默认的移动平均统计量）损失为{eval_mode:.4f}，"
                          "用数据的统计量时为{data:.4f}",
        "identity_plain": "2个普通层", "identity_residual": "1个残差块",
        "steps_training_new": "训练新层的步数",
        "distance_to_identity": "与恒等映射的距离", "grown_loss": "加深后网络的损失",
        "identity_never": "未达到",
        "identity_close": "距恒等映射5%", "identity_small_net": "小网络的损失",
        "identity_row": "{kind:>8}：进入恒等映射5%以内所用的步数{steps}；最后的距离{distance}，"
                        "损失{loss}",
        "form_plain_or_residual": "\"plain\"或\"residual\"",
        "hint_06_1": "在你的运行结果图中，逐个种子看{depth}层曲线最后一个迭代周期的值",
        "hint_06_2": "逐个阶段数：每个卷积层连接多少输入通道和输出通道，哪些层有偏置，"
                     "跨层数据通路有没有权重",
        "exercise_right": "✓ 正确。", "exercise_wrong": "✗ 还不对。提示：{hint}",
        "exercise_unanswered": "还没有作答：把上面答案单元中的...换成你的答案，运行那个单元，"
                               "再运行这个单元。",
        "exercise_wrong_form": "✗ 答案应是{form}，而这里是{value}。",
        "form_whole_number": "一个整数", "form_side": "一个不小于2的整数",
        "form_numbers": "一个整数列表，例如[2, 4]",
        "form_shape": "由三个整数组成的形状（通道数，高，宽）",
        "form_letters": "一个字母列表，例如[\"a\", \"b\"]",
        "hint_01_1": "逐层数一个残差块：3×3卷积层的每个输出通道有哪些参数，批量规范化层的每个"
                     "通道有哪些参数；再看一共有几个残差块。count_parameters()可以数出一个已构建"
                     "的残差块的参数。",
        "hint_01_2": "只有当G_k的某个鼓包恰好位于G_1的鼓包所在之处（0处）时，G_k才包含G_1"
                     "（所有鼓包的宽度相同）：看看bumps()把中心放在哪里。"
                     "contains(bumps(k), bumps(1))检查一个k。",
        "hint_02_1_channels": "通道数不对：无论输入有多少个通道，残差块都输出num_channels个通道。",
        "hint_02_1_side": "通道数对了，高和宽不对。它们由第一个3×3卷积层决定：填充为1在每边各"
                          "加一个像素，步幅从第一个位置起每隔一个位置取一个；注意边长是奇数。",
        "hint_02_2": "你的列表漏掉了{missing}个可以相加的残差块，并包含了{extra}个不能相加的。"
                     "不设置use_1x1conv=True时，输入原样相加，所以它的通道数以及高和宽必须已经"
                     "相同；block_output_shape(...)可以检查一个残差块。",
        "hint_02_3": "把1×1卷积层看作在每个像素上作用的全连接层，从输入通道到输出通道，数一数"
                     "这个全连接层的权重和偏置；print(block.shortcut)会显示通道数。",
        "hint_03_1": "ResNet-34的b3是resnet_block(64, 128, 4)。只有其中第一个残差块从64个通道"
                     "开始，并在跨层数据通路上含有1×1卷积层；其余三个残差块都一样，所以数出第一个"
                     "残差块和另一个残差块的参数即可。每个卷积层都有权重和偏置，每个批量规范化层"
                     "都有拉伸参数γ和偏移参数β；print(...)会显示b3中每一层的通道数，"
                     "count_parameters()可以数出你构建的b3的参数。",
        "hint_03_2": "像笔记那样数：7×7卷积层、每个残差块的两个3×3卷积层和全连接层；"
                     "跨层数据通路上的1×1卷积层不计在内。",
        "hint_04_1": "从b5往回推：要让b5输出的边长为2，它接收的边长最小是多少？输出大小的公式"
                     "向下取整，所以多一个像素就可能不同。对每个把边长减半的层重复这一步，"
                     "一直推回到输入。",
        "hint_04_2": "按图像经过的顺序，对每个改变边长的层用一次输出大小的公式，每层用它自己的"
                     "卷积核大小、步幅和填充：print(net)会显示它们。步幅为1、填充与卷积核相配的"
                     "层不改变边长。",
        # 笔记本03和04
        "nb03_layer_count": "{weighted}个带参数的层，其中{shortcuts}个是跨层数据通路上的1×1"
                            "卷积层；按笔记的数法，各部分的层数为{per_part}，共{depth}层",
        "nb03_family_row": "{name:<19} {block:<17} 每个模块的残差块数{depths}：{layers}层，"
                           "{parameters}个参数",
        "nb03_stage_row": "{stage}  {c_in:>3} → {c_out:<3} {parameters:>8}个参数  "
                          "占全网络{share:6.1%}  {gflop:.3f} GFLOP",
        "nb03_shortcut_row": "{conv}：{parameters}个参数，梯度范数{norm:.2g}",
        "form_class": "一个类别：它的名称，例如\"外套\"，或它的编号0到9",
        "form_network": "一个网络（nn.Module），例如resnet(...)",
        "form_layer_names": "一个层名称列表，例如[\"conv\", \"bn\", \"relu\"]",
        "form_positive_number": "一个正数",
        "hint_05_1": "随机梯度下降每个小批量更新一次权重，而在每个迭代周期中，每张训练图像"
                     "恰好属于一个小批量。",
        "hint_05_2": "混淆矩阵的一行是同一个真实类别的测试图像，行中对角线上的数是其中分类"
                     "正确的。",
        "hint_07_1": "Inception块不把各条路径相加，而是沿通道维把它们连结起来（见forward中的"
                     "torch.cat）：每条路径各贡献多少个通道？",
        "hint_07_2_layers": "按笔记的数法，你的网络有{layers}层；表1给出ResNet-34每个模块的"
                            "残差块数，每个残差块有两个3×3卷积层，再加上7×7卷积层和全连接层。",
        "hint_07_2_widths": "层数是34，但参数与ResNet-34不同：保持笔记的通道数（64、128、256、"
                            "512）和基本的残差块，只改变每个模块的残差块数。",
        "hint_07_3": "逐层去数：print(Bottleneck(1024, 256))会列出它的各层及其输入、输出通道"
                     "数；想一想每一层在每个通道上有哪些参数，偏置以及批量规范化层的拉伸参数"
                     "和偏移参数都算在内。",
        "hint_07_4_order": "层对了，顺序不对：“预激活”说明了批量规范化层和ReLU相对于每个卷积"
                           "层的位置；而残差块总是把输入加到残差分支算出的结果上。",
        "hint_07_4_layers": "层不对：残差分支仍是笔记中的两个卷积层，各有自己的批量规范化层"
                            "和ReLU，整个块只加一次输入；何恺明等人（2016）改动的正是相加之后"
                            "的部分。",
        "family_new_depths": "{a} → {b}：每个模块的残差块数{old} → {new}，残差块不变",
        "family_new_block": "{a} → {b}：残差块{old} → {new}，每个模块的残差块数不变",
        "inception_misfit": "把一条Inception路径加宽1个通道：GoogLeNet的第{block}个Inception块"
                            "收到{got}个通道，但它是按{built_for}个输入通道构建的",
        "numbers_by_hand": "手工选定的通道数：GoogLeNet的Inception块共{inception}个；ResNet-18的"
                           "各个模块一共只需{resnet}个数（每个模块一个通道数和一个残差块数）",
        "block_cost": "{block}：{params}个参数，前向传播{mflops:.0f} MFLOPs",
        "epoch_line": "第{epoch}个迭代周期：训练损失{loss:.3f}，训练精度{train_acc:.3f}，"
                      "测试精度{test_acc:.3f}",
        "run_epochs_line": "{name}：每个迭代周期{minutes:.0f}分钟（中位数），计算步骤每秒{rate:.0f}个"
                           "样本，{precision}，{machine}",
        "run_share_line": "{name}：{minutes:.0f}分钟后测试精度为{acc:.3f}，耗时是书中方案的"
                          "{share:.2f}",
        "tta_cost": "计算量（书中方案为1）：训练{trained:.3f}，加上十个测试视图为{total:.3f}",
        "whiten_pairs": "最终测试精度（随机种子0、1、2）：Xavier初始化的主干 {xavier}；白化主干 {whitened}",
        "compute_to_line": "quick：在书中方案{share:.3f}的计算量时达到0.92；所有运行中最好的："
                           "{best:.3f}",
        "b5_at_side": "{side}×{side}：b5输出{b5}×{b5}，计算量是28×28时的{cost:.1f}倍",
        "table1_line": "{model}：v1.5为{v15:.2f}，v1为{v1:.2f}，表1为{paper}",
        "hint_07_5": "不要按层数算：三个阶段各有n个残差块，边长减半的阶段通道数加倍，所以每个"
                     "残差块的计算量大致相同；第一层和输出层的计算量很小。count_flops()可以数出"
                     "两个网络的计算量。",
        # notebook 06b: gradients.without_shortcuts, lesion.plot_lesions, landscape
        "twin": "{depth}层{kind}网络", "resnet18_plain": "去掉跨层数据通路的ResNet-18",
        "rel_grad_ylabel": "‖权重梯度‖ / ‖权重‖",
        "grad_title_trained": "训练{steps}步之后",
        "lesion_xlabel": "删除的块（从输入端到输出端）",
        "lesion_title": "删除一个块后的测试精度",
        "landscape_step": "沿滤波器归一化方向的步长",
        "landscape_loss": "训练损失（对数刻度）", "direction": "方向{k}",
        "grad_spread_line": "种子{seed}，{net}：初始化时的比值{before:.1f}，训练后{after:.1f}"
                            "（平均训练损失{loss:.2f}）",
        "lesion_line": "{net}：完整时{intact:.3f}；删除一个块后{low:.3f}至{high:.3f}"
                       "（平均降低{drop:.3f}）",
        "rough_line": "{net}：沿直线的粗糙度{line:.3f}，平面上的粗糙度{plane:.3f}",
        "hint_06b_1": "在每个残差块处，一条路径有两种走法；沿整个网络数一数这些选择，"
                      "想一想不同残差块处的选择如何组合",
        "hint_06b_2": "一条路径由它经过残差分支的那些残差块确定；残差块的顺序是固定的，"
                      "数一数有多少个这样大小的集合",
    },
}

# D2L's terms, for a zh/en glossary: [(MESSAGES["zh"][k], MESSAGES["en"][k]) for k in GLOSSARY]
GLOSSARY = ("residual_block", "residual_mapping", "identity_mapping", "nested_classes",
            "batch_norm", "pooling", "stride", "padding", "channels", "degradation",
            "global_avg_pool_layer", "conv_layer", "fc_layer", "max_pool_layer")
