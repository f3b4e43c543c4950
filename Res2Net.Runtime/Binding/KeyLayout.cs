using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Binding;

/// <summary>
/// The key layout a checkpoint was found in, as <see cref="KeyLayout.Detect"/> recognised it.
/// </summary>
/// <param name="Name"><see cref="KeyLayout.Mmpretrain"/>, <see cref="KeyLayout.Official"/> (timm's names are the same) or <see cref="KeyLayout.Unknown"/>.</param>
/// <param name="ModulePrefix">Every key carried DataParallel's <c>module.</c> prefix.</param>
/// <param name="DeepStem">Official layout with the v1b deep stem (<c>conv1.0</c> ... <c>conv1.6</c>, <c>bn1</c>).</param>
public sealed record KeyLayoutInfo(string Name, bool ModulePrefix, bool DeepStem)
{
    /// <summary>
    /// For messages: <c>official/timm (deep stem conv1.0-6, module. prefix)</c>. The official Res2Net code and timm name
    /// every tensor alike (timm's Res2Net is a port of it), so the names cannot tell them apart and need not.
    /// </summary>
    public string Description
    {
        get
        {
            var notes = new List<string>();
            if (DeepStem) notes.Add("deep stem conv1.0-6");
            if (ModulePrefix) notes.Add("module. prefix");
            string name = Name == KeyLayout.Official ? "official/timm" : Name;
            return notes.Count == 0 ? name : $"{name} ({string.Join(", ", notes)})";
        }
    }

    /// <inheritdoc />
    public override string ToString() => Description;
}

/// <summary>
/// Maps the key layouts checkpoints come in onto mmpretrain's (<c>backbone.</c> + module, <c>head.fc.</c>), which is
/// what generated networks bind:
/// <list type="bullet">
/// <item>a <c>module.</c> prefix on every key (saved from <c>nn.DataParallel</c>) is dropped;</item>
/// <item>the official Res2Net layout, which timm's Res2Net shares (no prefix, classifier <c>fc.</c>), gains <c>backbone.</c> / <c>head.</c>, and its
/// v1b deep stem is renamed: <c>conv1.0</c>→<c>stem.0.conv</c>, <c>conv1.1</c>→<c>stem.0.bn</c>, <c>conv1.3</c>→<c>stem.1.conv</c>,
/// <c>conv1.4</c>→<c>stem.1.bn</c>, <c>conv1.6</c>→<c>stem.2.conv</c>, <c>bn1</c>→<c>stem.2.bn</c>.</item>
/// </list>
/// Everything else (block names, <c>downsample.N</c>) is the same in both layouts. Keys of an unrecognised layout are
/// passed through unchanged, so the strict check that follows lists them.
/// </summary>
public static class KeyLayout
{
    public const string Mmpretrain = "mmpretrain";
    public const string Official = "official";
    public const string Unknown = "unknown";

    private const string ModulePrefix = "module.";

    private static readonly (string Official, string Mmpretrain)[] DeepStem =
    [
        ("conv1.0.", "stem.0.conv."),
        ("conv1.1.", "stem.0.bn."),
        ("conv1.3.", "stem.1.conv."),
        ("conv1.4.", "stem.1.bn."),
        ("conv1.6.", "stem.2.conv."),
        ("bn1.", "stem.2.bn."),
    ];

    private static readonly string[] OfficialRoots = ["conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "layer4.", "fc."];

    /// <summary>Recognises the layout from the keys alone (no network needed, so <c>convert</c> can report it too).</summary>
    public static KeyLayoutInfo Detect(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys as IReadOnlyCollection<string> ?? keys.ToList();
        bool module = list.Count > 0 && list.All(k => k.StartsWith(ModulePrefix, StringComparison.Ordinal));
        int strip = module ? ModulePrefix.Length : 0;
        bool mmpretrain = false, official = false, deep = false;
        foreach (string key in list)
        {
            var k = key.AsSpan(strip);
            if (k.StartsWith("backbone.", StringComparison.Ordinal) || k.StartsWith("head.", StringComparison.Ordinal)) mmpretrain = true;
            foreach (string root in OfficialRoots)
                if (k.StartsWith(root, StringComparison.Ordinal)) official = true;
            if (k.StartsWith("conv1.0.", StringComparison.Ordinal)) deep = true;
        }
        if (mmpretrain) return new KeyLayoutInfo(Mmpretrain, module, false);
        if (official) return new KeyLayoutInfo(Official, module, deep);
        return new KeyLayoutInfo(Unknown, module, false);
    }

    /// <summary>The mmpretrain key for <paramref name="key"/> of a checkpoint in <paramref name="layout"/>.</summary>
    public static string ToMmpretrainKey(string key, KeyLayoutInfo layout)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(layout);
        string k = layout.ModulePrefix && key.StartsWith(ModulePrefix, StringComparison.Ordinal) ? key[ModulePrefix.Length..] : key;
        if (layout.Name != Official) return k;
        if (k.StartsWith("fc.", StringComparison.Ordinal)) return "head." + k;
        if (layout.DeepStem)
        {
            foreach (var (from, to) in DeepStem)
                if (k.StartsWith(from, StringComparison.Ordinal)) return "backbone." + to + k[from.Length..];
        }
        return "backbone." + k;
    }

    /// <summary>
    /// The name an mmpretrain key has in <paramref name="layout"/>: the inverse of <see cref="ToMmpretrainKey"/>, so that a
    /// message about a tensor the checkpoint lacks names it as the file would (<c>conv1.0.weight</c>, not
    /// <c>backbone.stem.0.conv.weight</c>, in a timm checkpoint).
    /// </summary>
    public static string ToLayoutKey(string mmpretrainKey, KeyLayoutInfo layout)
    {
        ArgumentNullException.ThrowIfNull(mmpretrainKey);
        ArgumentNullException.ThrowIfNull(layout);
        string k = mmpretrainKey;
        if (layout.Name == Official)
        {
            if (k.StartsWith("head.", StringComparison.Ordinal)) k = k["head.".Length..];
            else if (k.StartsWith("backbone.", StringComparison.Ordinal))
            {
                k = k["backbone.".Length..];
                foreach (var (official, mmpretrain) in DeepStem)
                {
                    if (k.StartsWith(mmpretrain, StringComparison.Ordinal))
                    {
                        k = official + k[mmpretrain.Length..];
                        break;
                    }
                }
            }
        }
        return layout.ModulePrefix ? ModulePrefix + k : k;
    }

    /// <summary>
    /// Renames every entry to mmpretrain's layout. Two keys landing on the same name (a file mixing layouts) are an
    /// error naming both, never a silent overwrite.
    /// </summary>
    public static IReadOnlyDictionary<string, T> ToMmpretrain<T>(IEnumerable<KeyValuePair<string, T>> entries, KeyLayoutInfo layout, string source)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var mapped = new Dictionary<string, T>(StringComparer.Ordinal);
        var from = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
        {
            string k = ToMmpretrainKey(key, layout);
            if (!from.TryAdd(k, key))
                throw new CheckpointException(source, $"keys '{from[k]}' and '{key}' both map to '{k}' in the {layout.Description} layout; the checkpoint mixes layouts");
            mapped[k] = value;
        }
        return mapped;
    }

    /// <summary>The state dict's tensors under mmpretrain keys (what <see cref="CompiledNetwork.Load(StateDict)"/> binds).</summary>
    public static IReadOnlyDictionary<string, CheckpointTensor> ToMmpretrain(StateDict stateDict, NetworkInfo info) =>
        ToMmpretrain(stateDict, info, out _);

    /// <summary>As <see cref="ToMmpretrain(StateDict, NetworkInfo)"/>, also saying which layout was found.</summary>
    public static IReadOnlyDictionary<string, CheckpointTensor> ToMmpretrain(StateDict stateDict, NetworkInfo info, out string layout)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var found = Detect(stateDict.Keys.ToList());
        layout = found.Description;
        return ToMmpretrain(stateDict, found, stateDict.SourcePath);
    }
}
