using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Res2Net.Generator;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>
/// Specs whose strings are random Unicode, rich in what ends a literal, a comment or a line in C#. Each spec must
/// either give an RN diagnostic at one of the fuzzed values and no network code, or compile (with the generator
/// driver, into a consumer compilation) to code whose string constants are exactly the spec's strings and whose
/// syntax is exactly that of a spec with plain strings: nothing a string holds becomes code.
/// </summary>
public class SpecFuzzTests
{
    private const int Cases = 160;

    /// <summary>What ends or escapes a context in C#: literals, comments, XML doc comments, lines, interpolation.</summary>
    private static readonly string[] Breakers =
    {
        "\"", "\\", "\\\"", "{", "}", "{{", "*/", "/*", "//", "///", "<", ">", "&", "<!--", "-->", "]]>", "</summary>",
        "<summary>", "\"\"\"", "$\"", "@\"", "'", "#", "#if", "\\u000A", "\\u0022", "&amp;", "&#10;", ";", "}}class X{}",
    };

    /// <summary>Characters C# or a terminal reads as a line end or a control: the spec must be refused.</summary>
    private static readonly string[] LineEnders =
    {
        "\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029", "\0", "\t", "\u001b[31m", "\u007f", "\u202e", "\u2066", "\ufeff",
        "\ud800", "\udc00",
    };

    private sealed record FuzzSpec(string FileName, string Name, string? ClassName, string[] ClassNames, string? Url)
    {
        public string Path => "/specs/" + FileName;

        public string Json()
        {
            var sb = new StringBuilder("{\n");
            sb.Append("  \"name\": ").Append(JsonString(Name)).Append(",\n");
            if (ClassName != null) sb.Append("  \"class_name\": ").Append(JsonString(ClassName)).Append(",\n");
            sb.Append("""
                  "blocks": [1, 1, 1, 1],
                  "base_width": 4,
                  "scales": 2,
                  "stem_channels": 8,
                  "base_channels": 4,
                  "num_classes": 3,
                  "input_size": [32, 32],

                """);
            if (Url != null) sb.Append("  \"checkpoint\": { \"url\": ").Append(JsonString(Url)).Append(", \"sha256\": \"bc967bf1\" },\n");
            sb.Append("  \"class_names\": [").Append(string.Join(", ", ClassNames.Select(JsonString))).Append("]\n}\n");
            return sb.ToString();
        }
    }

    /// <summary>Every UTF-16 code unit outside printable ASCII as \uXXXX, so any string (even a lone surrogate) travels exactly.</summary>
    private static string JsonString(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (c >= ' ' && c < '\u007f') sb.Append(c);
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return sb.Append('"').ToString();
    }

    private static string RandomText(Random random, bool mayBreakLines, int maxPieces)
    {
        var sb = new StringBuilder();
        int pieces = random.Next(1, maxPieces + 1);
        for (int i = 0; i < pieces; i++)
        {
            int pick = random.Next(100);
            if (pick < 30) sb.Append((char)random.Next(0x21, 0x7f));
            else if (pick < 60) sb.Append(Breakers[random.Next(Breakers.Length)]);
            else if (pick < 70) sb.Append(char.ConvertFromUtf32(random.Next(0x10000, 0x110000) is int cp && cp is >= 0xD800 and <= 0xDFFF ? 0x1F600 : cp));
            else if (pick < 80) sb.Append("αβγдежআইউ中文字😀é"[random.Next(15)]);
            else if (mayBreakLines && pick < 90) sb.Append(LineEnders[random.Next(LineEnders.Length)]);
            else if (mayBreakLines) sb.Append((char)random.Next(0, 0x10000));
            else sb.Append(' ');
        }
        return sb.ToString();
    }

    private static FuzzSpec MakeSpec(int seed)
    {
        var random = new Random(seed);
        // A third of the cases keep their strings free of line breaks and controls, so they compile and their
        // constants are checked; a third mix those in, and must be refused; a third put them only in the file
        // name, which is not validated (no JSON holds it) and reaches the code through the same escaping.
        int mode = seed % 3;
        bool hostile = mode == 1;
        string fileStem = RandomText(random, mode != 0, 6).Replace("/", "÷");
        string? className = mode == 2 ? "Fuzz" + seed.ToString(CultureInfo.InvariantCulture) : random.Next(4) switch
        {
            0 => null, // taken from the file name
            3 => RandomText(random, hostile, 4),
            _ => "Fuzz" + seed.ToString(CultureInfo.InvariantCulture),
        };
        string? url = random.Next(2) == 0 ? null : "https://example.org/w/" + RandomText(random, hostile, 4) + ".pth";
        var classNames = Enumerable.Range(0, 3).Select(_ => RandomText(random, hostile, 8)).ToArray();
        return new FuzzSpec(fileStem + ".json", RandomText(random, hostile, 10), className, classNames, url);
    }

    /// <summary>A spec like the fuzzed ones with plain strings: the syntax every compiled fuzz case must have.</summary>
    private static (SyntaxKind[] Network, SyntaxKind[] Registry) Reference(bool withUrl)
    {
        var plain = new FuzzSpec("plain.json", "plain", null, new[] { "a", "b", "c" }, withUrl ? "https://example.org/w/plain.pth" : null);
        var (result, output) = GeneratorRunner.Compile((plain.Path, plain.Json()));
        Assert.Empty(result.Diagnostics);
        var warnings = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(warnings.Count == 0, string.Join("\n", warnings));
        return (Kinds(NetworkTrees(result)), Kinds(RegistryTree(result)));
    }

    [Fact]
    public void EveryFuzzedSpecCompilesExactlyOrIsRefused()
    {
        var references = new[] { Reference(withUrl: false), Reference(withUrl: true) };
        int compiled = 0, refused = 0;
        var breakersCompiled = new HashSet<string>();
        var failures = new List<string>();
        for (int seed = 0; seed < Cases; seed++)
        {
            var spec = MakeSpec(seed);
            string json = spec.Json();
            try
            {
                var (result, output) = GeneratorRunner.Compile((spec.Path, json));
                // Whatever the generator said, what it added must compile without a warning.
                var csharp = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
                Assert.True(csharp.Count == 0, "generated code does not compile cleanly: " + string.Join("; ", csharp.Take(3)));

                if (result.Diagnostics.Length > 0)
                {
                    refused++;
                    AssertRefusedAtAFuzzedValue(result, json);
                    continue;
                }

                compiled++;
                string className = spec.ClassName ?? Res2NetGenerator.ClassNameFromFile(spec.Path);
                var network = NetworkTrees(result);
                var models = network.Select(n => output.GetSemanticModel(output.SyntaxTrees.Single(t => t.FilePath == n.FilePath))).ToList();
                AssertConstants(models, spec, className);
                var reference = references[spec.Url == null ? 0 : 1];
                AssertSameSyntax(reference.Network, Kinds(network), "network");
                AssertSameSyntax(reference.Registry, Kinds(RegistryTree(result)), "registry");
                var registryModel = output.GetSemanticModel(output.SyntaxTrees.Single(t => t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal)));
                Assert.Equal(new object[] { spec.Name, className }.OrderBy(x => (string)x, StringComparer.Ordinal),
                    registryModel.SyntaxTree.GetRoot().DescendantNodes().OfType<ConstantPatternSyntax>()
                        .Select(p => registryModel.GetConstantValue(p.Expression).Value!).OrderBy(x => (string)x, StringComparer.Ordinal));

                foreach (var b in Breakers)
                {
                    if (spec.Name.Contains(b, StringComparison.Ordinal) || spec.ClassNames.Any(n => n.Contains(b, StringComparison.Ordinal)))
                        breakersCompiled.Add(b);
                }
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException or InvalidOperationException)
            {
                failures.Add($"seed {seed}: {e.Message}\n{json}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(3)));
        // The fuzzer must exercise both outcomes, and every context breaker must have reached compiled code.
        Assert.True(compiled >= Cases / 4, $"only {compiled} of {Cases} fuzzed specs compiled");
        Assert.True(refused >= Cases / 4, $"only {refused} of {Cases} fuzzed specs were refused");
        Assert.Empty(Breakers.Except(breakersCompiled));
    }

    /// <summary>
    /// A refused spec gives RN0009 at one of the strings the fuzzer wrote (or at the object, for a class name taken
    /// from the file name), and no network code.
    /// </summary>
    private static void AssertRefusedAtAFuzzedValue(GeneratorDriverRunResult result, string json)
    {
        Assert.DoesNotContain(result.GeneratedTrees, t => !t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal));
        foreach (var d in result.Diagnostics)
        {
            Assert.True(d.Id == "RN0009", $"unexpected {d}");
            string at = json.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);
            Assert.True(at == "{" || at.StartsWith('"'), $"{d.Id} not at a fuzzed string but at {at}");
        }
    }

    /// <summary>The network file's class and constants, and its tables file's description, hold the spec's strings exactly.</summary>
    private static void AssertConstants(IReadOnlyList<SemanticModel> models, FuzzSpec spec, string className)
    {
        foreach (var m in models)
        {
            Assert.Equal(className, m.SyntaxTree.GetRoot().DescendantNodes().OfType<ClassDeclarationSyntax>().First().Identifier.ValueText);
        }
        var model = models.Single(m => m.SyntaxTree.GetRoot().DescendantNodes().OfType<VariableDeclaratorSyntax>().Any(v => v.Identifier.ValueText == "ModelName"));
        var modelName = model.SyntaxTree.GetRoot().DescendantNodes().OfType<VariableDeclaratorSyntax>().Single(v => v.Identifier.ValueText == "ModelName");
        Assert.Equal(spec.Name, ((IFieldSymbol)model.GetDeclaredSymbol(modelName)!).ConstantValue);

        var tables = models.Single(m => m.SyntaxTree.FilePath.EndsWith(".Tables.g.cs", StringComparison.Ordinal));
        var args = tables.SyntaxTree.GetRoot().DescendantNodes().OfType<ArgumentSyntax>().Where(a => a.NameColon != null)
            .GroupBy(a => a.NameColon!.Name.Identifier.ValueText).ToDictionary(g => g.Key, g => g.First().Expression);
        Assert.Equal(spec.Name, tables.GetConstantValue(args["Name"]).Value);
        Assert.Equal(className, tables.GetConstantValue(args["ClassName"]).Value);
        Assert.Equal(spec.FileName, tables.GetConstantValue(args["SpecFile"]).Value);
        Assert.Equal(spec.Url, tables.GetConstantValue(args["CheckpointUrl"]).Value);
        var labels = args["ClassNames"].DescendantNodes().OfType<InitializerExpressionSyntax>().Single().Expressions;
        Assert.Equal(spec.ClassNames, labels.Select(e => (string)tables.GetConstantValue(e).Value!));
    }

    private static void AssertSameSyntax(SyntaxKind[] expected, SyntaxKind[] actual, string what)
    {
        int at = Enumerable.Range(0, Math.Min(expected.Length, actual.Length)).FirstOrDefault(i => expected[i] != actual[i], -1);
        Assert.True(at < 0 && expected.Length == actual.Length,
            $"the {what}'s syntax differs from a plain spec's at node {at} ({actual.Length} nodes, expected {expected.Length})");
    }

    /// <summary>The kinds of every node and token outside comments, in order: the code's shape, whatever its strings.</summary>
    private static SyntaxKind[] Kinds(SyntaxTree tree) =>
        tree.GetRoot().DescendantNodesAndTokens().Select(n => n.Kind()).ToArray();

    private static SyntaxKind[] Kinds(IEnumerable<SyntaxTree> trees) => trees.SelectMany(Kinds).ToArray();

    /// <summary>The network's two files: the network, then its tables.</summary>
    private static IReadOnlyList<SyntaxTree> NetworkTrees(GeneratorDriverRunResult result)
    {
        var trees = result.GeneratedTrees.Where(t => !t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal))
            .OrderBy(t => t.FilePath.EndsWith(".Tables.g.cs", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, trees.Count);
        return trees;
    }

    private static SyntaxTree RegistryTree(GeneratorDriverRunResult result) =>
        Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal));
}
