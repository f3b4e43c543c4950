using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Res2Net.Generator;
using Res2Net.Generator.Emitting;
using Res2Net.Generator.Parsing;
using Res2Net.Generator.Planning;
using Res2Net.Runtime.Download;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>
/// The escaping functions, swept over every UTF-16 code unit and read back by the C# parser itself; and the lists
/// the generator keeps about the runtime (names generated code uses, buffer limit, URL rule) checked against it.
/// </summary>
public class CSharpTextTests
{
    private static IEnumerable<string> EveryCodeUnitBetweenLetters() =>
        Enumerable.Range(0, 0x10000).Select(c => "a" + (char)c + "b");

    [Fact]
    public void StringLiteralRoundTripsEveryCodeUnit()
    {
        foreach (string value in EveryCodeUnitBetweenLetters().Concat(new[] { "", "\ud83d\ude00", "\ud800", "\udc00x", "x\ud800", "\\u000A", "\"\"\"" }))
        {
            string literal = CSharpText.StringLiteral(value);
            var expression = SyntaxFactory.ParseExpression(literal);
            Assert.False(expression.ContainsDiagnostics, literal);
            var token = Assert.IsType<LiteralExpressionSyntax>(expression).Token;
            Assert.Equal(value, token.ValueText);
            Assert.Equal(literal, expression.ToFullString()); // the whole text is the literal: nothing after it
        }
    }

    [Fact]
    public void DocTextAndCommentTextNeverLeaveTheirLine()
    {
        foreach (string value in EveryCodeUnitBetweenLetters().Concat(new[] { "x\n class Injected { }", "</summary><summary>", "*/ class X {} /*" }))
        {
            foreach (string source in new[]
            {
                $"/// <summary>{CSharpText.DocText(value)}</summary>\nclass C {{ }}\n",
                $"// {CSharpText.CommentText(value)}\nclass C {{ }}\n",
            })
            {
                var tree = CSharpSyntaxTree.ParseText(source, GeneratorRunner.ParseOptions);
                Assert.False(tree.GetDiagnostics().Any(), source);
                var unit = (CompilationUnitSyntax)tree.GetRoot();
                var type = Assert.IsType<ClassDeclarationSyntax>(Assert.Single(unit.Members));
                Assert.Equal("C", type.Identifier.ValueText);
                Assert.Equal(2, tree.GetText().Lines.Count(l => l.Span.Length > 0)); // the comment's line and the class's
            }
        }
    }

    [Fact]
    public void DocTextKeepsItsTextReadableAfterXmlDecoding()
    {
        var tree = CSharpSyntaxTree.ParseText($"/// <summary>{CSharpText.DocText("a < b && c > d\u2028e")}</summary>\nclass C {{ }}\n", GeneratorRunner.ParseOptions);
        var compilation = CSharpCompilation.Create("Doc", new[] { tree });
        string xml = compilation.GetTypeByMetadataName("C")!.GetDocumentationCommentXml()!;
        Assert.Contains("a &lt; b &amp;&amp; c &gt; d\\u2028e", xml);
    }

    [Theory]
    [InlineData("Res2Net50W14S8", true)]
    [InlineData("_net", true)]
    [InlineData("class", false)]
    [InlineData("var", false)]
    [InlineData("partial", false)]
    [InlineData("@class", false)]
    [InlineData("N\u0065\u0301t", false)] // combining accent: not ASCII
    [InlineData("Net\u200b", false)]     // zero-width space: invisible
    [InlineData("9Net", false)]
    [InlineData("", false)]
    public void OnlyPlainAsciiIdentifiersThatAreNotKeywordsNameAClass(string name, bool valid)
    {
        Assert.Equal(valid, CSharpText.IsPlainIdentifier(name));
        if (!valid) Assert.Throws<InvalidOperationException>(() => CSharpText.Identifier(name));
    }

    [Fact]
    public void EveryMemberOfCompiledNetworkIsTakenAsAClassName()
    {
        var members = typeof(Res2Net.Runtime.Networks.CompiledNetwork)
            .GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy)
            .Where(m => m is not ConstructorInfo && !m.Name.Contains('<') && !m.Name.Contains('.'))
            .Where(m => m switch
            {
                MethodBase method => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly,
                FieldInfo field => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly,
                PropertyInfo property => property.GetMethod is { } g && (g.IsPublic || g.IsFamily || g.IsFamilyOrAssembly),
                Type nested => nested.IsNestedPublic || nested.IsNestedFamily,
                _ => true,
            })
            .Select(m => m is MethodInfo { IsSpecialName: true } ? null : m.Name)
            .OfType<string>()
            .Distinct();
        Assert.All(members, name => Assert.True(EmittedNames.IsTaken(name), $"CompiledNetwork.{name} is not in EmittedNames"));
    }

    [Fact]
    public void EveryNameGeneratedCodeBindsIsTakenAsAClassName()
    {
        string json = File.ReadAllText(GeneratorRunner.RepoFile("Res2Net.Tests", "Networks", "tiny-deep.json"));
        var (result, output) = GeneratorRunner.Compile(("/specs/tiny-deep.json", json));
        Assert.Empty(result.Diagnostics);
        var program = Res2NetGenerator.Plan(Res2NetGenerator.ParseSpec("/specs/tiny-deep.json", Microsoft.CodeAnalysis.Text.SourceText.From(json)).Spec!);
        // The names that depend on the network (layer methods, buffers, layer types) are checked against the program instead.
        var layerMethods = Res2NetGenerator.MemberNames(program).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var tree in output.SyntaxTrees)
        {
            var model = output.GetSemanticModel(tree);
            // Simple names the code looks up (not the right side of a.b): a class named like one of them would hide it.
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                if (name.Parent is MemberAccessExpressionSyntax access && access.Name == name) continue;
                if (name.Parent is QualifiedNameSyntax q && q.Right == name) continue;
                if (name.Parent is NameColonSyntax or MemberBindingExpressionSyntax) continue;
                // An object initializer's member (new() { Weights = ... }) binds to the created type, which no class hides.
                if (name.Parent is AssignmentExpressionSyntax { Parent: InitializerExpressionSyntax } init && init.Left == name) continue;
                var symbol = model.GetSymbolInfo(name).Symbol;
                if (symbol is null or IParameterSymbol or ILocalSymbol or INamespaceSymbol) continue;
                if (symbol.Name == "TinyDeep") continue;
                Assert.True(EmittedNames.IsTaken(symbol.Name) || layerMethods.Contains(symbol.Name),
                    $"generated code refers to {symbol.Name} by its simple name, but EmittedNames does not list it");
            }
            // Members it declares: a class may not be named like its own member (CS0542).
            foreach (var member in tree.GetRoot().DescendantNodes().OfType<MemberDeclarationSyntax>())
            {
                var declared = model.GetDeclaredSymbol(member);
                if (declared is null or INamedTypeSymbol or INamespaceSymbol || declared is IMethodSymbol { MethodKind: MethodKind.Constructor }) continue;
                Assert.True(EmittedNames.IsTaken(declared.Name) || layerMethods.Contains(declared.Name),
                    $"generated code declares {declared.Name}, but EmittedNames does not list it");
            }
        }
    }

    [Fact]
    public void TheLargestPlannedBufferFitsTheRuntimesAlignedAllocation()
    {
        int slack = (int)typeof(Res2Net.Runtime.Networks.CompiledNetwork).Assembly
            .GetType("Res2Net.Runtime.Kernels.AlignedBuffer")!
            .GetField("SlackFloats", BindingFlags.NonPublic | BindingFlags.Static)!.GetRawConstantValue()!;
        Assert.Equal(Array.MaxLength, PlanTooLargeException.MaxBufferFloats + slack);
    }

    [Theory]
    [InlineData("https://download.openmmlab.com/mmclassification/v0/res2net/res2net50-w14-s8_3rdparty_8xb32_in1k_20210927-bc967bf1.pth", true)]
    [InlineData("http://127.0.0.1:8080/w/net.pth", true)]
    [InlineData("HTTPS://example.org/a%20b.pth?x=1#y", true)]
    [InlineData("https://example.org/w/%2e%2e", false)]
    [InlineData("https://example.org/w/a%2Fb.pth", false)]
    [InlineData("https://example.org/", false)]
    [InlineData("ftp://example.org/w/net.pth", false)]
    public void EveryCheckpointUrlASpecMayGiveIsOneTheCacheCanName(string url, bool accepted)
    {
        Assert.Equal(accepted, CheckpointUrl.Problem(url) == null);
        if (accepted) Assert.False(string.IsNullOrEmpty(CheckpointCache.FileName(url)));
    }

    [Fact]
    public void SpecsAndPlansHashUnderOverflowChecks()
    {
        // The generator is compiled with CheckForOverflowUnderflow; the records' hash codes must still not throw.
        string json = File.ReadAllText(GeneratorRunner.RepoFile("networks", "res2net101-w26-s4.json"));
        var parsed = Res2NetGenerator.ParseSpec("networks/res2net101-w26-s4.json", Microsoft.CodeAnalysis.Text.SourceText.From(json));
        _ = parsed.GetHashCode();
        _ = Res2NetGenerator.Plan(parsed.Spec!).GetHashCode();
    }
}
