using Res2Net.Runtime.Binding;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Which Res2Net a checkpoint holds, read from its tensor shapes alone (no values are read): the stem from
/// <c>conv1</c> (7×7) or <c>stem.0</c>–<c>stem.2</c>, blocks per stage by counting <c>layerS.B.conv1</c>, the split
/// width and scales from <c>layer1.0.convs.0</c> and <c>layer1.0.conv1</c>, base channels from <c>layer1.0.conv3</c>,
/// avg_down from where <c>layer2.0</c>'s shortcut conv sits (<c>downsample.0</c>, or <c>downsample.1</c> after the pool),
/// classes from the classifier. The architecture found is then checked tensor by tensor against what it would bind
/// (<see cref="Res2NetArchitecture.StateDict"/>), so an answer is exact: it is the spec that loads the checkpoint.
/// </summary>
/// <remarks>
/// This is what <c>res2net inspect</c> prints and writes as a spec, and what a failed load says the checkpoint is
/// (<see cref="StateDictMismatchException"/>). Anything that is not a Res2Net this project compiles (a ResNet, a
/// Res2NeXt with grouped convs, an SE block, a backbone without its classifier) is refused naming the first tensor that
/// did not fit, under the name the file gives it.
/// </remarks>
public static class ArchitectureInference
{
    /// <summary>Most blocks in one stage, scales and classes a spec takes (the generator's limits).</summary>
    private const int MaxBlocks = 64, MaxScales = 64, MaxChannels = 4096, MaxClasses = 1_000_000;

    /// <summary>The architecture of <paramref name="stateDict"/>, in any key layout <see cref="KeyLayout"/> knows.</summary>
    /// <exception cref="CheckpointException">It is not a Res2Net a spec can describe; the message names the first tensor that did not fit.</exception>
    public static Res2NetArchitecture Infer(StateDict stateDict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var layout = stateDict.Layout;
        string? problem;
        Res2NetArchitecture? found = null;
        if (stateDict.Count > 0 && layout.Name == KeyLayout.Unknown)
        {
            var first = stateDict.Tensors[0];
            problem = $"no tensor is named as in a layout this reader knows (mmpretrain's backbone.* and head.fc.*; the official " +
                      $"Res2Net's and timm's conv1.*, layer1.* ... fc.*); the first is '{DisplayText.Shorten(first.Name)}' {first.ShapeText}";
        }
        else
        {
            KeyLayout.ToMmpretrain(stateDict, layout, stateDict.SourcePath);   // refuses a file whose keys collide once renamed
            var tensors = stateDict.Tensors.Select(t => new Named(KeyLayout.ToMmpretrainKey(t.Name, layout), t.Name, t.Shape)).ToList();
            found = new Reader(tensors, layout).Read(out problem);
        }
        return found ?? throw new CheckpointException(stateDict.SourcePath, $"not a Res2Net this project compiles: {problem}");
    }

    /// <summary>
    /// The architecture of tensors already under mmpretrain's keys (what a network binds), or null and why not; used to
    /// say what a checkpoint that does not fit a network is instead.
    /// </summary>
    public static Res2NetArchitecture? TryInfer(IReadOnlyDictionary<string, CheckpointTensor> tensors, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        return new Reader(tensors.Select(kv => new Named(kv.Key, kv.Key, kv.Value.Shape)).ToList(), null).Read(out problem);
    }

    /// <summary>
    /// What a user should know about reading <paramref name="architecture"/> from a checkpoint in <paramref name="layout"/>
    /// that the shapes cannot settle.
    /// </summary>
    public static IReadOnlyList<string> Caveats(Res2NetArchitecture architecture, KeyLayoutInfo layout)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(layout);
        var caveats = new List<string>();
        if (layout.Name == KeyLayout.Official && architecture.StemChannels == architecture.StageChannels(0))
        {
            // timm's Bottle2neck is a 'stage' block only when it strides or has a shortcut conv; mmpretrain's and the
            // official code's first block of every stage always is. They part only when layer1.0 needs no shortcut.
            caveats.Add("layer1.0 has no shortcut conv (stem channels = 4 × base channels): the spec computes it as mmpretrain and the " +
                        "official Res2Net do, as a 'stage' block (the last split pooled, no sums between splits); timm computes such a " +
                        "block as a 'normal' one, so a timm checkpoint of this shape would not give timm's outputs");
        }
        return caveats;
    }

    /// <summary>A tensor under its mmpretrain key, with the name the file gave it.</summary>
    private sealed record Named(string Key, string FileKey, int[] Shape);

    private sealed class Reader
    {
        private readonly IReadOnlyList<Named> _tensors;
        private readonly Dictionary<string, Named> _byKey;
        private readonly KeyLayoutInfo? _layout;

        public Reader(IReadOnlyList<Named> tensors, KeyLayoutInfo? layout)
        {
            _tensors = tensors;
            _byKey = tensors.GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            _layout = layout;
        }

        public Res2NetArchitecture? Read(out string? problem)
        {
            problem = Structure(out var architecture) ?? Compare(architecture!);
            return problem == null ? architecture : null;
        }

        /// <summary>Reads each field from the tensor that fixes it; the first that does not fit is the problem.</summary>
        private string? Structure(out Res2NetArchitecture? architecture)
        {
            architecture = null;
            if (_tensors.Count == 0) return "it holds no tensors";

            string stem;
            int stemChannels;
            const string Conv1 = "backbone.conv1.weight", DeepLast = "backbone.stem.2.conv.weight";
            if (Shape(Conv1) is { } conv1)
            {
                if (!Is(conv1, -1, 3, 7, 7)) return $"{With(Conv1)} is not a plain stem's 7×7 conv over RGB, [stem channels, 3, 7, 7]";
                (stem, stemChannels) = (Res2NetArchitecture.PlainStem, conv1[0]);
            }
            else if (Shape(DeepLast) is { } last)
            {
                if (!Is(last, -1, -1, 3, 3)) return $"{With(DeepLast)} is not the 3×3 conv that ends a deep stem";
                (stem, stemChannels) = (Res2NetArchitecture.DeepStem, last[0]);
            }
            else
            {
                return $"it has no stem: neither {Quote(Conv1)} (a 7×7 conv) nor {Quote(DeepLast)} (the last conv of a deep stem); " +
                       $"its first tensor is {With(_tensors[0].Key)}";
            }
            if (stemChannels is < 2 or > MaxChannels) return $"{With(stem == Res2NetArchitecture.PlainStem ? Conv1 : DeepLast)}: a spec's stem has 2 to {MaxChannels} channels";

            var blocks = new int[4];
            for (int stage = 1; stage <= 4; stage++)
            {
                int n = 0;
                while (n <= MaxBlocks && _byKey.ContainsKey($"backbone.layer{stage}.{n}.conv1.weight")) n++;
                if (n == 0) return $"it has no layer{stage}: {Quote($"backbone.layer{stage}.0.conv1.weight")} is missing, and a Res2Net has four stages, layer1 to layer4";
                if (n > MaxBlocks) return $"layer{stage} has more than {MaxBlocks} blocks, the most a spec takes";
                blocks[stage - 1] = n;
            }

            const string Block = "backbone.layer1.0.";
            var first = Shape(Block + "conv1.weight")!;
            if (Is(first, -1, -1, 3, 3))
                return $"{With(Block + "conv1.weight")} is a 3×3 conv: this is a ResNet BasicBlock (resnet18/34), not a Bottle2neck, whose conv1 is 1×1";
            if (!Is(first, -1, stemChannels, 1, 1))
                return $"{With(Block + "conv1.weight")} is not a Bottle2neck's 1×1 conv1 over the stem's {stemChannels} channels, [width × scales, {stemChannels}, 1, 1]";
            if (Shape(Block + "convs.0.weight") is not { } split)
            {
                if (Shape(Block + "conv2.weight") != null)
                {
                    return $"{With(Block + "conv2.weight")} is a ResNet Bottleneck's 3×3 conv, where a Res2Net's Bottle2neck has its split convs " +
                           $"convs.0, convs.1, ...: this is a ResNet (or ResNeXt) checkpoint, not a Res2Net";
                }
                return $"{Quote(Block + "convs.0.weight")} is missing: layer1.0 is not a Bottle2neck (conv1, convs.0 ... convs.N, conv3)";
            }
            if (split.Length != 4 || split[2] != 3 || split[3] != 3 || split[0] < 1)
                return $"{With(Block + "convs.0.weight")} is not a Bottle2neck's 3×3 split conv, [width, width, 3, 3]";
            int width = split[0];
            if (split[1] != width)
            {
                return split[1] > 0 && width % split[1] == 0 && width > split[1]
                    ? $"{With(Block + "convs.0.weight")} is a grouped conv ({width / split[1]} groups): this is a Res2NeXt; the networks this project compiles have one group"
                    : $"{With(Block + "convs.0.weight")} is not a Bottle2neck's 3×3 split conv, [width, width, 3, 3]";
            }
            if (first[0] % width != 0)
                return $"{With(Block + "conv1.weight")} has {first[0]} outputs, not a whole number of splits of {width} channels (the width of {Quote(Block + "convs.0.weight")})";
            int scales = first[0] / width;
            if (scales is < 2 or > MaxScales)
                return $"{With(Block + "conv1.weight")} makes {scales} splits of {width} channels; a spec takes 2 to {MaxScales} scales";
            if (Shape(Block + "conv3.weight") is not { } conv3) return $"{Quote(Block + "conv3.weight")} is missing: layer1.0 is not a Bottle2neck";
            if (!Is(conv3, -1, first[0], 1, 1) || conv3[0] % 4 != 0 || conv3[0] == 0)
                return $"{With(Block + "conv3.weight")} is not a Bottle2neck's 1×1 conv3, [4 × base channels, {first[0]}, 1, 1]";
            int baseChannels = conv3[0] / 4;
            if (baseChannels > MaxChannels || width > MaxChannels) return $"{With(Block + "conv3.weight")}: a spec takes at most {MaxChannels} base channels and base width";

            // layer2.0 always strides, so it always has a shortcut conv; where it sits says whether a pool comes first.
            const string Shortcut = "backbone.layer2.0.downsample.";
            bool avgDown;
            if (_byKey.ContainsKey(Shortcut + "0.weight")) avgDown = false;
            else if (Shape(Shortcut + "1.weight") is { Length: 4 }) avgDown = true;
            else return $"layer2.0 has no shortcut conv: neither {Quote(Shortcut + "0.weight")} nor, after avg_down's pool, {Quote(Shortcut + "1.weight")}";

            const string Fc = "head.fc.weight";
            if (Shape(Fc) is not { } fc)
            {
                var backbone = new Res2NetArchitecture(blocks, width, scales, stem, avgDown, stemChannels, baseChannels, 1);
                return $"it has no classifier {Quote(Fc)}: it is the backbone of a {backbone.BackboneDescription} without its head, and the networks " +
                       "this project compiles end in a linear classifier, so no spec loads it";
            }
            if (fc.Length != 2 || fc[0] is < 1 or > MaxClasses) return $"{With(Fc)} is not a classifier's weight, [classes, channels], with 1 to {MaxClasses} classes";
            architecture = new Res2NetArchitecture(blocks, width, scales, stem, avgDown, stemChannels, baseChannels, fc[0]);
            return null;
        }

        /// <summary>Every tensor against the architecture's: the first (in the file's order) that does not fit, or the first missing.</summary>
        private string? Compare(Res2NetArchitecture architecture)
        {
            var expected = architecture.StateDict();
            var byKey = expected.ToDictionary(e => e.Key, StringComparer.Ordinal);
            foreach (var tensor in _tensors)
            {
                if (tensor.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) continue;   // BatchNorm's counter, never bound
                if (!byKey.TryGetValue(tensor.Key, out var entry))
                {
                    string hint = tensor.Key.Contains(".se.", StringComparison.Ordinal) ? " (a squeeze-and-excitation module: SE-Res2Net is not compiled)" : "";
                    return $"{With(tensor.Key)} has no place in a {architecture.Description}{hint}";
                }
                if (!entry.Shape.SequenceEqual(tensor.Shape))
                {
                    string hint = tensor.Key.StartsWith("backbone.stem.", StringComparison.Ordinal)
                        ? " (a deep stem's first two convs have half the stem's channels)" : "";
                    return $"{With(tensor.Key)} does not fit a {architecture.Description}, which has {ShapeText(entry.Shape)} there{hint}";
                }
            }
            var missing = expected.FirstOrDefault(e => !_byKey.ContainsKey(e.Key));
            return missing == null ? null : $"{Quote(missing.Key)} is missing, which a {architecture.Description} has, {ShapeText(missing.Shape)}";
        }

        private int[]? Shape(string key) => _byKey.TryGetValue(key, out var t) ? t.Shape : null;

        /// <summary>True when <paramref name="shape"/> has these dimensions (-1: any).</summary>
        private static bool Is(int[] shape, params int[] dims) =>
            shape.Length == dims.Length && shape.Zip(dims).All(p => p.Second < 0 || p.First == p.Second);

        /// <summary>The key as the file names it (for a tensor it lacks: as its layout would), escaped and shortened for a message.</summary>
        private string Shown(string key) =>
            DisplayText.Shorten(_byKey.TryGetValue(key, out var t) ? t.FileKey : _layout == null ? key : KeyLayout.ToLayoutKey(key, _layout));

        private string Quote(string key) => $"'{Shown(key)}'";

        private string With(string key) => $"{Quote(key)} {ShapeText(Shape(key)!)}";

        private static string ShapeText(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
    }
}
