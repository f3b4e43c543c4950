using System.Text;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Binding;

/// <summary>
/// A checkpoint that does not fit the network: every missing, unexpected and mis-shaped tensor is listed,
/// so one run tells the user everything that is wrong.
/// </summary>
public sealed class StateDictMismatchException : Exception
{
    private StateDictMismatchException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misshaped)
        : base(message)
    {
        Missing = missing;
        Unexpected = unexpected;
        Misshaped = misshaped;
    }

    public IReadOnlyList<string> Missing { get; }

    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Entries of the form <c>key: expected [..], found [..]</c>.</summary>
    public IReadOnlyList<string> Misshaped { get; }

    internal static void ThrowIfMismatched(IReadOnlyDictionary<string, CheckpointTensor> tensors, NetworkInfo info, string source)
    {
        var expected = info.StateDict.ToDictionary(e => e.Key, StringComparer.Ordinal);
        var missing = info.StateDict.Where(e => !tensors.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        var unexpected = tensors.Keys
            .Where(k => !expected.ContainsKey(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .ToList();
        var misshaped = new List<string>();
        foreach (var entry in info.StateDict)
        {
            if (tensors.TryGetValue(entry.Key, out var t) && !t.Shape.SequenceEqual(entry.Shape))
            {
                misshaped.Add($"{entry.Key}: expected [{string.Join(", ", entry.Shape)}], found [{string.Join(", ", t.Shape)}]");
            }
        }
        if (missing.Count == 0 && unexpected.Count == 0 && misshaped.Count == 0) return;

        var sb = new StringBuilder();
        sb.Append($"{DisplayText.Escape(source)}: the checkpoint does not fit {info.Name}");
        sb.Append($" ({missing.Count} missing, {unexpected.Count} unexpected, {misshaped.Count} mis-shaped).");
        Append(sb, "Missing", missing);
        Append(sb, "Unexpected", unexpected);
        Append(sb, "Mis-shaped", misshaped);
        throw new StateDictMismatchException(sb.ToString(), missing, unexpected, misshaped);
    }

    private static void Append(StringBuilder sb, string title, List<string> items)
    {
        if (items.Count == 0) return;
        sb.Append('\n').Append(title).Append(':');
        const int Shown = 20;
        // Keys come from the file: escaped, so that one holding ESC cannot drive the terminal that shows the list.
        foreach (var item in items.Take(Shown)) sb.Append("\n  ").Append(DisplayText.Escape(item));
        if (items.Count > Shown) sb.Append($"\n  ... and {items.Count - Shown} more");
    }
}
