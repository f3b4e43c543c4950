using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Res2Net.Generator;

namespace Res2Net.Tests.Generator;

/// <summary>Runs the generator in-process on spec texts, as the compiler would, and returns what it produced.</summary>
internal static class GeneratorRunner
{
    public static GeneratorDriverRunResult Run(params (string Path, string Json)[] specs) => Run(out _, specs);

    public static GeneratorDriverRunResult Run(out GeneratorDriver driver, params (string Path, string Json)[] specs)
    {
        var texts = specs.Select(s => (AdditionalText)new InMemoryText(s.Path, s.Json)).ToImmutableArray();
        driver = CSharpGeneratorDriver.Create(
            new[] { new Res2NetGenerator().AsSourceGenerator() },
            texts,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(CSharpCompilation.Create("Specs"));
        return driver.GetRunResult();
    }

    public static string RepoFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Res2Net.slnx"))) dir = dir.Parent;
        if (dir == null) throw new InvalidOperationException("repository root (Res2Net.slnx) not found above " + AppContext.BaseDirectory);
        return Path.Combine(new[] { dir.FullName }.Concat(parts).ToArray());
    }

    internal sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path => path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }
}
