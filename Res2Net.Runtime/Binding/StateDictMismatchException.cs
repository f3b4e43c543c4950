using System.Text;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Binding;

/// <summary>
/// A checkpoint that does not fit the network, in one message: how many tensors are missing, unexpected and
/// mis-shaped; which network the checkpoint holds instead, read from its shapes (<see cref="ArchitectureInference"/>),
/// and the spec fields in which it differs; then the first few of each list (<see cref="Missing"/>,
/// <see cref="Unexpected"/> and <see cref="Misshaped"/> hold them all).
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
        // What the checkpoint is instead, read from its shapes: one sentence that says which spec fields differ
        // replaces the wall of size mismatches every Res2Net user has met, so the lists below are then kept short.
        var found = ArchitectureInference.TryInfer(tensors, out string? problem);
        if (found != null)
        {
            var differences = found.DifferencesFrom(Res2NetArchitecture.Of(info));
            sb.Append($"\nThis checkpoint is a {found.Description}.");
            if (differences.Count > 0) sb.Append($"\nIt differs from {info.Name} in {string.Join(", ", differences)}.");
            sb.Append($"\n`res2net inspect {DisplayText.Escape(ShellWord(source))} --spec OUT.json` writes the spec that loads it.");
        }
        else
        {
            sb.Append($"\nNor is it another Res2Net this project compiles: {DisplayText.Escape(problem!)}.");
        }
        int shown = found != null ? 3 : 10;
        Append(sb, "Missing", missing, shown);
        Append(sb, "Unexpected", unexpected, shown);
        Append(sb, "Mis-shaped", misshaped, shown);
        throw new StateDictMismatchException(sb.ToString(), missing, unexpected, misshaped);
    }

    /// <summary><paramref name="text"/> as one word of a POSIX shell command: as it is when plain, else in single quotes.</summary>
    private static string ShellWord(string text) =>
        text.Length > 0 && text.All(c => char.IsAsciiLetterOrDigit(c) || "._/+-:@%,=".Contains(c)) ? text : "'" + text.Replace("'", "'\\''") + "'";

    private static void Append(StringBuilder sb, string title, List<string> items, int shown)
    {
        if (items.Count == 0) return;
        sb.Append('\n').Append(title).Append(':');
        // Keys come from the file: escaped, so that one holding ESC cannot drive the terminal that shows the list.
        foreach (var item in items.Take(shown)) sb.Append("\n  ").Append(DisplayText.Escape(item));
        if (items.Count > shown) sb.Append($"\n  ... and {items.Count - shown} more");
    }
}
