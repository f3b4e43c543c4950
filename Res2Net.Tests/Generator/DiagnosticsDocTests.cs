using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Res2Net.Generator;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>
/// docs/diagnostics.md has a section per diagnostic the generator can report, titled as the descriptor is, and each
/// section's example, run through the generator, gives exactly the errors the section shows (file, line, column, id,
/// message). A new diagnostic without a section, or a message that changes, fails here.
/// </summary>
public class DiagnosticsDocTests
{
    private static readonly Lazy<string[]> Doc = new(() => File.ReadAllLines(GeneratorRunner.RepoFile("docs", "diagnostics.md")));

    private static IEnumerable<DiagnosticDescriptor> Descriptors =>
        typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!);

    public static TheoryData<string> Ids() => new(Descriptors.Select(d => d.Id).Order());

    [Fact]
    public void EveryDiagnosticHasASectionTitledAsItsDescriptor()
    {
        var sections = Doc.Value.Select(l => Regex.Match(l, @"^## (RN\d{4}): (.+)$")).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(Descriptors.Select(d => d.Id).Order(), sections.Keys.Order());
        foreach (var d in Descriptors) Assert.Equal(d.Title.ToString(), sections[d.Id]);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void TheSectionsExampleGivesTheErrorsItShows(string id)
    {
        var (specs, ns, expected) = Section(id);
        Assert.NotEmpty(specs);
        var diagnostics = ns == null
            ? GeneratorRunner.Run(specs.ToArray()).Diagnostics
            : GeneratorRunner.Compile(ns, specs.ToArray()).Result.Diagnostics;
        var actual = diagnostics.Select(Format).ToArray();
        Assert.True(expected.SequenceEqual(actual), $"docs/diagnostics.md, {id}, shows\n{string.Join('\n', expected)}\nbut the generator says\n{string.Join('\n', actual)}");
        Assert.Contains(diagnostics, d => d.Id == id);
    }

    /// <summary>As the compiler prints it, with the spec's path as the example names it.</summary>
    private static string Format(Diagnostic d)
    {
        if (d.Location == Location.None) return $"error {d.Id}: {d.GetMessage()}";
        var at = d.Location.GetLineSpan();
        return $"{at.Path}({at.StartLinePosition.Line + 1},{at.StartLinePosition.Character + 1}): error {d.Id}: {d.GetMessage()}";
    }

    /// <summary>
    /// A section's spec files (each a ```json block after a line naming it, `networks/NAME.json`:), the
    /// Res2NetNamespace of its ```xml block if it has one, and the lines of its ```text block.
    /// </summary>
    private static (List<(string Path, string Json)> Specs, string? Namespace, string[] Expected) Section(string id)
    {
        string[] doc = Doc.Value;
        int start = Array.FindIndex(doc, l => l.StartsWith($"## {id}:", StringComparison.Ordinal));
        Assert.True(start >= 0, $"docs/diagnostics.md has no section for {id}");
        int end = Array.FindIndex(doc, start + 1, l => l.StartsWith("## ", StringComparison.Ordinal));
        if (end < 0) end = doc.Length;

        var specs = new List<(string, string)>();
        string? ns = null;
        string[] expected = [];
        string? file = null;
        for (int i = start + 1; i < end; i++)
        {
            if (Regex.Match(doc[i], @"^`(networks/[^`]+\.json)`:$") is { Success: true } named)
            {
                file = named.Groups[1].Value;
                continue;
            }
            if (!doc[i].StartsWith("```", StringComparison.Ordinal)) continue;
            string fence = doc[i][3..];
            int close = Array.FindIndex(doc, i + 1, l => l == "```");
            string[] body = doc[(i + 1)..close];
            switch (fence)
            {
                case "json":
                    specs.Add((file ?? throw new InvalidOperationException($"{id}: a json block without a `networks/NAME.json`: line before it"), string.Join('\n', body)));
                    file = null;
                    break;
                case "xml":
                    ns = Regex.Match(string.Join('\n', body), "<Res2NetNamespace>(.*)</Res2NetNamespace>").Groups[1].Value;
                    break;
                case "text":
                    expected = body;
                    break;
            }
            i = close;
        }
        if (ns != null && specs.Count == 0) specs.Add(("networks/flowers.json", ValidExample()));
        return (specs, ns, expected);
    }

    /// <summary>The valid spec the document starts from (its first json block, before any section).</summary>
    private static string ValidExample()
    {
        string[] doc = Doc.Value;
        int open = Array.IndexOf(doc, "```json");
        int close = Array.FindIndex(doc, open + 1, l => l == "```");
        return string.Join('\n', doc[(open + 1)..close]);
    }
}
