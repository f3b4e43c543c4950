using Res2Net.Cli;
using Res2Net.Runtime.IO;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// <see cref="CliApp.Report"/>, the one place exceptions become exit codes: bad input exits 2 with one line; anything
/// else is a bug, reported as such with exit 70 and one line, its stack trace only under RES2NET_DEBUG=1.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class ErrorReportTests
{
    private static (int Code, string Err) Report(Exception e)
    {
        var stderr = new StringWriter();
        int code = CliApp.Report(e, stderr);
        return (code, stderr.ToString());
    }

    /// <summary>An exception with a stack trace, as one thrown inside a command has.</summary>
    private static Exception Thrown(Exception e)
    {
        try
        {
            throw e;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }

    public static TheoryData<string> UserErrors => new() { "npy", "disk full", "missing file", "permission", "out of memory" };

    [Theory]
    [MemberData(nameof(UserErrors))]
    public void BadInputAndTheEnvironmentExit2WithOneLine(string kind)
    {
        var e = kind switch
        {
            "npy" => new NpyException("/data/x.npy", "descr", "dtype '<i4' not supported"),
            "disk full" => new IOException("No space left on device : '/out/results.json'"),
            "missing file" => new FileNotFoundException("Could not find file '/data/x.jpg'."),
            "permission" => new UnauthorizedAccessException("Access to the path '/root/x' is denied."),
            _ => (Exception)new OutOfMemoryException(),
        };
        var (code, err) = Report(Thrown(e));
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith("res2net: error: ", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void AnUnexpectedExceptionIsAnInternalErrorOnOneLineWithoutItsStack()
    {
        Environment.SetEnvironmentVariable(CliApp.DebugVariable, null);
        var (code, err) = Report(Thrown(new InvalidOperationException("the arena\nis corrupt")));
        Assert.Equal(CliApp.InternalError, code);
        Assert.Equal(70, CliApp.InternalError);   // sysexits.h EX_SOFTWARE
        Assert.StartsWith("res2net: internal error: System.InvalidOperationException: the arena is corrupt (please report this", err);
        Assert.Contains("RES2NET_DEBUG=1", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void Res2NetDebugShowsTheStackOfAnInternalError()
    {
        Environment.SetEnvironmentVariable(CliApp.DebugVariable, "1");
        try
        {
            var (code, err) = Report(Thrown(new NullReferenceException("boom")));
            Assert.Equal(CliApp.InternalError, code);
            Assert.StartsWith("res2net: internal error: System.NullReferenceException: boom", err);
            Assert.Contains($"   at {typeof(ErrorReportTests).FullName}.{nameof(Thrown)}", err);
        }
        finally
        {
            Environment.SetEnvironmentVariable(CliApp.DebugVariable, null);
        }
    }
}
