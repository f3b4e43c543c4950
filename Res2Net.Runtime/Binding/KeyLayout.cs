using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Binding;

/// <summary>
/// Maps the key layouts checkpoints come in onto mmpretrain's (<c>backbone.</c> + module, <c>head.fc.</c>),
/// which is what generated networks bind: a <c>module.</c> prefix (DataParallel) is dropped, and the
/// official Res2Net layout (no prefix, classifier <c>fc.</c>) gains mmpretrain's prefixes.
/// </summary>
public static class KeyLayout
{
    public const string Mmpretrain = "mmpretrain";
    public const string Official = "official";

    public static IReadOnlyDictionary<string, CheckpointTensor> ToMmpretrain(StateDict stateDict, NetworkInfo info) =>
        ToMmpretrain(stateDict, info, out _);

    public static IReadOnlyDictionary<string, CheckpointTensor> ToMmpretrain(StateDict stateDict, NetworkInfo info, out string layout)
    {
        var keys = stateDict.Keys.ToList();
        string strip = keys.Count > 0 && keys.All(k => k.StartsWith("module.", StringComparison.Ordinal)) ? "module." : "";
        bool official = !keys.Any(k => k.StartsWith(strip + "backbone.", StringComparison.Ordinal)) &&
                        keys.Any(k => k == strip + "fc.weight" || k.StartsWith(strip + "layer1.", StringComparison.Ordinal));
        layout = (official ? Official : Mmpretrain) + (strip.Length > 0 ? " (module. prefix)" : "");

        var mapped = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in stateDict)
        {
            string k = key.Substring(strip.Length);
            if (official) k = k.StartsWith("fc.", StringComparison.Ordinal) ? "head." + k : "backbone." + k;
            mapped[k] = tensor;
        }
        return mapped;
    }
}
