using System.Globalization;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Turns a <c>--class</c> value into a label: an index (0 to classes − 1), or a class name. ImageNet's names list
/// synonyms ("tench, Tinca tinca"), so a name matches the whole entry or any one of its comma-separated synonyms,
/// ignoring case; a name that fits several classes ("crane" is a bird and a machine) must be given as an index.
/// </summary>
internal static class ClassSelector
{
    public static int Resolve(string value, IReadOnlyList<string> classNames)
    {
        string text = value.Trim();
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            if (index < classNames.Count) return index;
            throw new CliException($"--class {index} is not a class: the network has classes 0 to {classNames.Count - 1}.");
        }
        var whole = Matches(classNames, name => string.Equals(name, text, StringComparison.OrdinalIgnoreCase));
        var matches = whole.Count > 0 ? whole
            : Matches(classNames, name => name.Split(',').Any(s => string.Equals(s.Trim(), text, StringComparison.OrdinalIgnoreCase)));
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new CliException($"--class '{value}' is neither a class index (0 to {classNames.Count - 1}) nor a class name of the network."),
            _ => throw new CliException(
                $"--class '{value}' names {matches.Count} classes: {string.Join(", ", matches.Select(i => $"{i} ({classNames[i]})"))}; give the index."),
        };
    }

    private static List<int> Matches(IReadOnlyList<string> classNames, Func<string, bool> match) =>
        Enumerable.Range(0, classNames.Count).Where(i => match(classNames[i])).ToList();
}
